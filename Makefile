# Pier: the two commands are `make demo` and `make test`; the rest are parts of them.
# Everything Pier needs from Debian is installed here when missing, so a fresh machine works.

SWIFT       ?= swift
PIER        := .build/release/pier
FUZZ_BUILD  := .build-fuzz
FUZZ_BIN    := $(FUZZ_BUILD)/release/PierFuzz
FUZZ_SECONDS ?= 30
PUBLIC      := fixtures/public
SUDO        := $(shell [ "$$(id -u)" -eq 0 ] || echo sudo)
export DEBIAN_FRONTEND := noninteractive
export SWIFT_BACKTRACE := enable=no

.PHONY: demo test build release install deps test-deps unit-tests cni-podman fuzz-smoke fuzz fuzz-seeds corpus bench fixtures clean

## Installs what building needs: libpcap's headers, and liburing's (`pier switch --io uring`).
deps:
	@[ -f /usr/include/pcap/pcap.h ] || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq libpcap-dev pkg-config; }
	@[ -f /usr/include/liburing.h ] || { $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq liburing-dev; }

## Installs what the tests need besides: tshark and tcpdump (the oracles), python3 (seed generator;
## the live tests' TCP ends), iproute2, ping and iperf3 (the live tests and bench/live-iperf.sh),
## iptables and ethtool (Linux's MASQUERADE as the NAT oracle, KernelNATTests), prometheus (promtool
## checks the metrics' text format; LiveMetricsTests scrapes pier switch --metrics with the server),
## containernetworking-plugins (host-local, the IPAM plugin LiveCNITests delegates to), podman, runc
## and busybox-static (scripts/cni-podman-check.sh: the CNI plugin under a real runtime),
## etcd-server and etcd-client (overlay.etcd: the tests start a real etcd 3.4 and read it with etcdctl).
test-deps: deps
	@missing=""; \
	command -v tshark  >/dev/null 2>&1 || missing="$$missing tshark"; \
	command -v tcpdump >/dev/null 2>&1 || missing="$$missing tcpdump"; \
	command -v python3 >/dev/null 2>&1 || missing="$$missing python3"; \
	command -v ip      >/dev/null 2>&1 || missing="$$missing iproute2"; \
	command -v ping    >/dev/null 2>&1 || missing="$$missing iputils-ping"; \
	command -v iperf3  >/dev/null 2>&1 || missing="$$missing iperf3"; \
	command -v iptables >/dev/null 2>&1 || [ -x /usr/sbin/iptables ] || missing="$$missing iptables"; \
	command -v ethtool >/dev/null 2>&1 || [ -x /usr/sbin/ethtool ] || missing="$$missing ethtool"; \
	command -v promtool >/dev/null 2>&1 || missing="$$missing prometheus"; \
	[ -x /usr/lib/cni/host-local ] || missing="$$missing containernetworking-plugins"; \
	command -v podman  >/dev/null 2>&1 || missing="$$missing podman"; \
	command -v runc    >/dev/null 2>&1 || missing="$$missing runc"; \
	[ -x /bin/busybox ] || missing="$$missing busybox-static"; \
	command -v etcd    >/dev/null 2>&1 || missing="$$missing etcd-server"; \
	command -v etcdctl >/dev/null 2>&1 || missing="$$missing etcd-client"; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  echo "wireshark-common wireshark-common/install-setuid boolean false" | $(SUDO) debconf-set-selections 2>/dev/null || true; \
	  $(SUDO) apt-get update -qq && $(SUDO) apt-get install -y -qq $$missing; \
	fi

build: deps
	$(SWIFT) build

release: deps
	$(SWIFT) build -c release --product pier

## The CNI plugin where runtimes look for it: /opt/cni/bin/pier (the same binary as the CLI; run
## with CNI_COMMAND set and no arguments it is the plugin), and /usr/lib/cni/pier for Debian's
## runtimes (podman, containerd's package), which read that directory.
CNI_BIN ?= /opt/cni/bin
CNI_LIB ?= /usr/lib/cni
install: release
	$(SUDO) install -D -m 0755 $(PIER) $(DESTDIR)$(CNI_BIN)/pier
	$(SUDO) mkdir -p $(DESTDIR)$(CNI_LIB)
	$(SUDO) ln -sf $(CNI_BIN)/pier $(DESTDIR)$(CNI_LIB)/pier

## The main job on the bundled captures: decode one, replay it, run two containers' traffic
## through the two-containers topology, masquerade three containers, encapsulate a pod's
## traffic in VXLAN, and measure the decoder, the whole pipeline and encap; as root, the live
## switch too.
demo: release
	@echo "== pier inspect fixtures/demo.pcap (a flannel VXLAN node's uplink: ARP, ping, TCP, a broken frame)"
	@$(PIER) inspect fixtures/demo.pcap
	@echo
	@echo "== pier replay --in p0=fixtures/demo.pcap --out p0=.build/demo-out.pcap"
	@$(PIER) replay --in p0=fixtures/demo.pcap --out p0=.build/demo-out.pcap
	@cmp fixtures/demo.pcap .build/demo-out.pcap && echo "output is byte-identical to the input (pass-through: no topology given)"
	@echo
	@echo "== pier replay --config fixtures/topologies/two-containers.yaml --trace (two containers on docker0 ping each other and the gateway, then reach outside)"
	@$(PIER) replay --config fixtures/topologies/two-containers.yaml \
	  --in c1=fixtures/scenarios/ping-c1.pcap --in c2=fixtures/scenarios/ping-c2.pcap \
	  --out eth0=.build/demo-eth0.pcap --out c1=.build/demo-c1.pcap --out c2=.build/demo-c2.pcap --out c3=.build/demo-c3.pcap --trace
	@echo
	@echo "== pier replay --config fixtures/topologies/nat.yaml --dump (three containers reach one outside host from the same source port: MASQUERADE gives them three node ports)"
	@$(PIER) replay --config fixtures/topologies/nat.yaml \
	  --in c1=fixtures/nat/three-c1.pcap --in c2=fixtures/nat/three-c2.pcap --in c3=fixtures/nat/three-c3.pcap \
	  --in eth0=fixtures/nat/three-eth0.pcap --out eth0=.build/demo-nat-eth0.pcap --dump | sed -n '/^replay:/,/^  events/p;/^conntrack:/,$$p'
	@echo
	@echo "== pier replay --config fixtures/topologies/node-a.yaml (a pod's traffic to node-b's pods leaves the uplink in VXLAN, VNI 1, port 8472)"
	@$(PIER) replay --config fixtures/topologies/node-a.yaml --in pod1=fixtures/overlay/pod-a.pcap \
	  --out eth0=.build/demo-vxlan.pcap --out pod1=.build/demo-pod1.pcap | head -1
	@$(PIER) inspect .build/demo-vxlan.pcap | head -4
	@echo
	@echo "== pier bench decode switch vxlan-encap"
	@$(PIER) bench decode switch vxlan-encap --packets 20000000
	@echo
	@if [ "$$(id -u)" -eq 0 ] && [ -e /dev/net/tun ] && command -v ip >/dev/null; then \
	  PIER=$(PIER) scripts/demo-live.sh; \
	else echo "(the live part, pier up + pier switch + a ping through Pier + pier down, runs when make demo runs as root with iproute2)"; fi

## Every test: unit and oracle tests, the fuzz corpus as regression tests, and a short fuzz run.
test: test-deps unit-tests corpus fuzz-smoke cni-podman

unit-tests: deps
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

## Pier's CNI plugin under podman (as root; otherwise skipped, the reason printed).
cni-podman: deps
	$(SWIFT) build --product pier
	@status=0; scripts/cni-podman-check.sh .build/debug/pier || status=$$?; [ $$status -eq 2 ] || exit $$status

## Replays the committed fuzz corpus (fixtures/fuzz-corpus) through the decoders' checks.
corpus: deps
	$(SWIFT) build --product PierFuzz
	.build/debug/PierFuzz fixtures/fuzz-corpus

$(FUZZ_BIN): $(shell find Sources/Wire Sources/Inspect Sources/PierFuzz -name '*.swift')
	$(SWIFT) build -c release --sanitize=fuzzer -Xswiftc -sanitize=fuzzer,address -Xswiftc -DFUZZING \
	  --product PierFuzz --scratch-path $(FUZZ_BUILD)

## Seeds: every record of the public captures, plus the committed corpus.
fuzz-seeds:
	@rm -rf $(FUZZ_BUILD)/seeds && mkdir -p $(FUZZ_BUILD)/corpus
	@python3 scripts/fuzz-seeds.py $(FUZZ_BUILD)/seeds $(wildcard $(PUBLIC)/*.pcap)

## A short libFuzzer run ($(FUZZ_SECONDS) s) over the decoders; a crash fails the build and
## leaves its input in $(FUZZ_BUILD)/artifacts/ (add it to fixtures/fuzz-corpus).
fuzz-smoke: test-deps $(FUZZ_BIN) fuzz-seeds
	@mkdir -p $(FUZZ_BUILD)/artifacts
	ASAN_OPTIONS=detect_leaks=0 $(FUZZ_BIN) -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
	  -artifact_prefix=$(FUZZ_BUILD)/artifacts/ $(FUZZ_BUILD)/corpus $(FUZZ_BUILD)/seeds fixtures/fuzz-corpus

## A long run: make fuzz FUZZ_SECONDS=600.
fuzz: fuzz-smoke

## Throughput of each stage (release build): pier bench, then the ordo-one suites.
bench: release
	$(PIER) bench
	cd Benchmarks && $(SWIFT) package --allow-writing-to-package-directory benchmark --no-progress

## Regenerates the project's own captures in fixtures/ from their generator.
fixtures:
	python3 fixtures/generate.py fixtures
	python3 fixtures/scenarios.py fixtures/scenarios
	python3 fixtures/nat_scenarios.py fixtures/nat
	python3 fixtures/overlay_scenarios.py fixtures/overlay

clean:
	rm -rf .build $(FUZZ_BUILD) Benchmarks/.build
