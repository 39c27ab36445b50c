#!/usr/bin/env bash
# Pier's CNI plugin under a real runtime (issue 13): Debian's podman 4.3 with its CNI backend
# runs containers from a busybox root filesystem (`--rootfs`, no image) on a network whose
# conflist says "type": "pier", against a running `pier switch`:
#   1. two containers ping each other and the bridge through Pier (`pier fdb` has both MACs),
#      one reaches the other's web server;
#   2. a container reaches a web server on an outside host (namespace pcn-out, on the switch's
#      uplink eth0) through the node's MASQUERADE: the server logs the node's address as its
#      client; the outside host reaches `podman run -p 18480:80`'s web server through the
#      node's address and the host port (Pier's port mapping, no iptables);
#   3. `podman rm` removes their ports and port mapping and frees their addresses;
#   4. COUNT containers (default 50) started and removed in a loop leave no port, mapping,
#      lease, attachment record, namespace or device behind.
# podman's configuration (the setup facts of the README's "As a CNI plugin"), the network's
# conflist, podman's storage and a plugin directory holding PIER all live in a temporary
# directory named by CONTAINERS_CONF and podman's options: nothing of the machine's own
# configuration is read or changed. A shell script, not a Swift test: Foundation's Process
# watches a descriptor that podman's conmon inherits, so a call would last as long as the
# container. Names start with pcn. Exits 0 when every check passed, 1 when one failed, 2 when
# it cannot run here (the reason on stdout).
#
# Usage: scripts/cni-podman-check.sh [PIER] [COUNT]   (default: .build/debug/pier, 50)
set -euo pipefail
cd "$(dirname "$0")/.."
pier=$(realpath "${1:-.build/debug/pier}")
count=${2:-50}
[ "$(id -u)" -eq 0 ] || { echo "cni-podman-check: skipped: needs root"; exit 2; }
for tool in podman runc ip; do command -v "$tool" >/dev/null || { echo "cni-podman-check: skipped: $tool missing (make test-deps)"; exit 2; }; done
[ -x /bin/busybox ] && [ -x /usr/lib/cni/host-local ] || { echo "cni-podman-check: skipped: busybox-static or containernetworking-plugins missing (make test-deps)"; exit 2; }
[ -x "$pier" ] || { echo "cni-podman-check: skipped: $pier is not built"; exit 2; }

work=$(mktemp -d /tmp/pcn-podman.XXXXXX)
runroot=/run/pcn-podman-$$   # podman refuses a run root longer than 50 characters
node=pcn-pod net=pcnpodnet subnet=10.234.48 outside=pcn-out node_ip=192.168.231.25 outside_ip=192.168.231.1
mkdir -p "$work"/rootfs/{bin,etc,proc,sys,dev,tmp} "$work/net" "$work/plugins"
cp /bin/busybox "$work/rootfs/bin/"
for tool in sh ping sleep httpd wget ip; do ln -s busybox "$work/rootfs/bin/$tool"; done
ln -s "$pier" "$work/plugins/pier"
cat > "$work/containers.conf" <<CONF
[containers]
default_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]
[engine]
cgroup_manager = "cgroupfs"
runtime = "runc"
events_logger = "file"
[network]
network_backend = "cni"
cni_plugin_dirs = ["$work/plugins", "/usr/lib/cni"]
network_config_dir = "$work/net"
CONF
cat > "$work/net/$net.conflist" <<JSON
{"cniVersion": "1.0.0", "name": "$net", "plugins": [{"type": "pier", "node": "$node", "bridge": "cni0",
 "capabilities": {"portMappings": true}, "stateDir": "$work/state",
 "ipam": {"type": "host-local", "subnet": "$subnet.0/24", "gateway": "$subnet.1", "dataDir": "$work/ipam",
          "routes": [{"dst": "0.0.0.0/0"}]}}]}
JSON
cat > "$work/node.yaml" <<YAML
node: $node
ports:
  - {name: up0, tap: pcnpodup}
  - {name: eth0, tap: wan0, netns: /run/netns/$outside, mac: 02:00:c0:a8:e7:19, ip: $node_ip/24}
bridges:
  - {name: cni0, ports: [up0], ip: $subnet.1/24, mac: 02:42:0a:ea:30:01}
nat:
  masquerade:
    - {source: $subnet.0/24, out: eth0}
YAML
export CONTAINERS_CONF="$work/containers.conf"
pod() { podman --root "$work/storage" --runroot "$runroot" --storage-driver vfs "$@"; }
switch_pid="" server_pid=""
cleanup() {
    pod rm -a -f -t 0 >/dev/null 2>&1 || true
    [ -n "$switch_pid" ] && kill -TERM "$switch_pid" 2>/dev/null && wait "$switch_pid" 2>/dev/null || true
    [ -n "$server_pid" ] && kill -TERM "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null || true
    ip link delete pcnpodup 2>/dev/null || true
    ip netns delete "$outside" 2>/dev/null || true
    rm -rf "$work" "$runroot"
}
trap cleanup EXIT
failures=0
check() {  # check DESCRIPTION COMMAND…: runs the command, says ok or FAIL
    local what=$1
    shift
    if "$@" >"$work/last.out" 2>&1; then echo "ok   $what"; else echo "FAIL $what"; sed 's/^/     /' "$work/last.out"; failures=$((failures + 1)); fi
}

# The outside host: a namespace whose wan0 (a TAP device the switch serves as its uplink eth0)
# has the address the node's MASQUERADE and port mappings face.
ip netns delete "$outside" 2>/dev/null || true
ip netns add "$outside"
ip -n "$outside" tuntap add dev wan0 mode tap
ip -n "$outside" addr add "$outside_ip/24" dev wan0
ip -n "$outside" link set wan0 up
ip -n "$outside" link set lo up
mkdir -p "$work/www" && echo "outside" > "$work/www/index.html"
ip netns exec "$outside" python3 -m http.server 8000 --bind "$outside_ip" --directory "$work/www" > "$work/outside.log" 2>&1 &
server_pid=$!

"$pier" switch --config "$work/node.yaml" --cni-state "$work/state" > "$work/switch.log" 2>&1 &
switch_pid=$!
for _ in $(seq 50); do [ -S "/run/pier/$node.sock" ] && break; sleep 0.1; done

check "podman run pcn-c1 (sleep)" pod run -d --name pcn-c1 --network "$net" --cap-add NET_RAW --rootfs "$work/rootfs" sleep 600
check "podman run pcn-c2 (httpd, -p 18480:80)" pod run -d --name pcn-c2 --network "$net" --cap-add NET_RAW -p 18480:80 --rootfs "$work/rootfs" httpd -f -p 80
a1=$(pod inspect --format "{{.NetworkSettings.Networks.$net.IPAddress}}" pcn-c1)
a2=$(pod inspect --format "{{.NetworkSettings.Networks.$net.IPAddress}}" pcn-c2)
echo "     addresses: pcn-c1 $a1, pcn-c2 $a2"
check "pcn-c1 pings pcn-c2 through Pier" pod exec pcn-c1 ping -c 2 -W 2 "$a2"
check "pcn-c2 pings pcn-c1 through Pier" pod exec pcn-c2 ping -c 2 -W 2 "$a1"
check "pcn-c1 pings the bridge $subnet.1" pod exec pcn-c1 ping -c 2 -W 2 "$subnet.1"
# busybox httpd serves no files here: its 404 is the answer, from across the switch.
check "pcn-c1 reaches pcn-c2's httpd" sh -c "podman --root '$work/storage' --runroot '$runroot' --storage-driver vfs exec pcn-c1 wget -q -O - http://$a2/ 2>&1 | grep -q '404'"
mac() { printf '0a:58:%02x:%02x:%02x:%02x' $(echo "$1" | tr . ' '); }
check "pier fdb has both containers' MACs" sh -c "'$pier' fdb --node $node | grep -q $(mac "$a1") && '$pier' fdb --node $node | grep -q $(mac "$a2")"
check "the port mapping 18480 -> $a2:80 is in the switch" sh -c "'$pier' get --node $node portmapping | grep -q 'hostPort: 18480, to: $a2:80'"
# MASQUERADE: the outside server's log names its client; it must be the node, not the container.
check "pcn-c1 reaches the outside server $outside_ip:8000 through MASQUERADE" sh -c "podman --root '$work/storage' --runroot '$runroot' --storage-driver vfs exec pcn-c1 wget -q -O - http://$outside_ip:8000/ | grep -q outside"
check "the outside server saw the node $node_ip, not $a1" sh -c "grep -q '^$node_ip - .*GET / ' '$work/outside.log' && ! grep -q '^$a1 ' '$work/outside.log'"
check "pier conntrack shows the masqueraded connection" sh -c "'$pier' conntrack --node $node | grep -q 'src=$a1 dst=$outside_ip .* src=$outside_ip dst=$node_ip sport=8000'"
# The published port from outside: busybox httpd answers 404 (it serves no files here).
check "the outside host reaches pcn-c2's httpd at $node_ip:18480 (podman run -p 18480:80)" \
    ip netns exec "$outside" python3 -c "
import urllib.request, urllib.error, sys
try: urllib.request.urlopen('http://$node_ip:18480/', timeout=5)
except urllib.error.HTTPError as e: sys.exit(0 if e.code == 404 else 1)
sys.exit(1)"
check "podman rm pcn-c1 pcn-c2" pod rm -f -t 0 pcn-c1 pcn-c2

nothing_left() {
    ! "$pier" get --node "$node" port | grep -q 'name: cni' &&
    ! "$pier" get --node "$node" portmapping | grep -q hostPort &&
    [ -z "$(ls "$work/ipam/$net" 2>/dev/null | grep '^[0-9]')" ] &&
    [ -z "$(ls "$work/state/$node" 2>/dev/null)" ]
}
check "no port, mapping, lease or attachment record left after podman rm" nothing_left

loop() {
    for n in $(seq "$count"); do
        pod run -d --name "pcn-l$n" --network "$net" -p $((18500 + n)):80 --rootfs "$work/rootfs" sleep 600 >/dev/null || return 1
        pod rm -f -t 0 "pcn-l$n" >/dev/null || return 1
    done
}
start=$(date +%s.%N)
check "$count containers started and removed in a loop" loop
echo "     $(echo "$(date +%s.%N) $start $count" | awk '{printf "%.0f ms per run+rm", ($1-$2)*1000/$3}')"
check "no port, mapping, lease or attachment record left after the loop" nothing_left
check "no ADD result left in podman's CNI cache (/var/lib/cni/results)" sh -c "! ls /var/lib/cni/results 2>/dev/null | grep -q '^$net-'"

if [ "$failures" -ne 0 ]; then echo "cni-podman-check: $failures checks failed (switch log: below)"; tail -20 "$work/switch.log"; exit 1; fi
echo "cni-podman-check: all checks passed"
