#!/usr/bin/env bash
# CNI ADD latency (issue 13): COUNT ADD/DEL cycles of Pier's plugin against a running switch,
# beside the same cycles of the standard `bridge` plugin (Debian's containernetworking-plugins,
# a Linux bridge and veths), in the same run; both with host-local IPAM. Each ADD is timed from
# the plugin's start to its exit with the result (as a runtime sees it); prints the median,
# the 99th percentile and the worst. Needs root, iproute2, python3 and /usr/lib/cni/host-local.
# Namespaces, TAPs and the Linux bridge start with pcn; all removed on exit.
#
# Usage: bench/cni-add-latency.sh [COUNT] [PIER]   (default: 100, .build/release/pier)
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
count=${1:-100}
pier=${2:-.build/release/pier}
require_live cni-add-latency ip python3
[ -x /usr/lib/cni/host-local ] && [ -x /usr/lib/cni/bridge ] || { echo "cni-add-latency: needs containernetworking-plugins (make test-deps)"; exit 2; }
work=$(mktemp -d)
cat > "$work/node.yaml" <<YAML
node: pcn-bench
ports:
  - {name: up0, tap: pcnbenchup}
bridges:
  - {name: cni0, ports: [up0], ip: 10.235.0.1/24, mac: 02:42:0a:eb:00:01}
YAML
switch_pid=""
cleanup() {
    [ -n "$switch_pid" ] && kill -TERM "$switch_pid" 2>/dev/null && wait "$switch_pid" 2>/dev/null || true
    ip netns delete pcn-bench1 2>/dev/null || true
    ip link delete pcnbenchbr 2>/dev/null || true
    ip link delete pcnbenchup 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
"$pier" switch --config "$work/node.yaml" > "$work/switch.log" 2>&1 &
switch_pid=$!
ip netns add pcn-bench1
for _ in $(seq 50); do [ -S /run/pier/pcn-bench.sock ] && break; sleep 0.1; done

python3 - "$count" "$pier" "$work" <<'PY'
import json, os, subprocess, sys, time
count, pier, work = int(sys.argv[1]), sys.argv[2], sys.argv[3]
def ipam(subnet):
    return {"type": "host-local", "subnet": subnet, "gateway": subnet.replace("0/24", "1"),
            "dataDir": work + "/ipam", "routes": [{"dst": "0.0.0.0/0"}]}
plugins = [
    ("pier", os.path.abspath(pier), {"cniVersion": "1.0.0", "name": "pcn-pier", "type": "pier", "node": "pcn-bench",
                                     "bridge": "cni0", "ipam": ipam("10.235.0.0/24")}),
    ("bridge", "/usr/lib/cni/bridge", {"cniVersion": "1.0.0", "name": "pcn-bridge", "type": "bridge", "bridge": "pcnbenchbr",
                                       "isGateway": True, "ipam": ipam("10.235.1.0/24")}),
]
times = {name: [] for name, _, _ in plugins}
def call(binary, command, config, n):
    env = {"CNI_COMMAND": command, "CNI_CONTAINERID": "pcn-bench-%d" % n, "CNI_NETNS": "/run/netns/pcn-bench1",
           "CNI_IFNAME": "eth0", "CNI_PATH": "/usr/lib/cni", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}
    start = time.perf_counter()
    done = subprocess.run([binary], input=json.dumps(config).encode(), env=env, capture_output=True)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit("%s %s failed: %s %s" % (binary, command, done.stdout.decode(), done.stderr.decode()))
    return elapsed
# Interleaved, so both see the same machine.
for n in range(count):
    for name, binary, config in plugins:
        times[name].append(call(binary, "ADD", config, n))
        call(binary, "DEL", config, n)
print("CNI ADD latency, %d ADD/DEL cycles each, plugin start to result (host-local IPAM):" % count)
for name, _, _ in plugins:
    ordered = sorted(times[name])
    median = ordered[len(ordered) // 2] * 1000
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000
    print("  %-7s median %6.1f ms   p99 %6.1f ms   worst %6.1f ms" % (name, median, p99, ordered[-1] * 1000))
PY
