#!/usr/bin/env bash
# overlay.etcd at scale (issue 14's targets): COUNT flannel leases (vxlan) written into a real etcd
# by this script (through etcd's JSON gateway), then
#   1. a pier switch starting: the time from its start until every peer is in force (its log line
#      "etcd: COUNT leased peers in force"), and the switch's own figure from list to pipeline;
#   2. one lease added while it runs: from the write (etcd's answer) until the switch logs the
#      change in force, median and worst of 20;
#   3. memory: the switch's resident set with COUNT peers against one with none, per peer;
#   4. the peer, Linux: the same COUNT peers programmed into a kernel VXLAN device as flanneld
#      does (neighbour, onlink route, FDB entry each; `ip -batch` and `bridge -batch`), timed.
# Needs root, iproute2, etcd, etcdctl, python3. Namespaces start with pe-b; removed on exit.
#
# Usage: bench/etcd-peers.sh [COUNT] [PIER]   (default: 1000, .build/release/pier)
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
count=${1:-1000}
pier=${2:-.build/release/pier}
require_live etcd-peers ip etcd etcdctl python3 bridge
work=$(mktemp -d)
ns=pe-b
etcd_pid="" switch_pid=""
cleanup() {
    [ -n "$switch_pid" ] && kill -TERM "$switch_pid" 2>/dev/null && wait "$switch_pid" 2>/dev/null || true
    [ -n "$etcd_pid" ] && kill -KILL "$etcd_pid" 2>/dev/null && wait "$etcd_pid" 2>/dev/null || true
    ip netns delete "$ns" 2>/dev/null || true
    ip netns delete pe-bk 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
cleanup_first() { ip netns delete "$ns" 2>/dev/null || true; ip netns delete pe-bk 2>/dev/null || true; }
cleanup_first
ip netns add "$ns"
ip -n "$ns" link set lo up
ip -n "$ns" tuntap add dev pebup mode tap
ip -n "$ns" link set pebup up
# etcd inside the bench's namespace, on its loopback: no port of the host is taken.
ip netns exec "$ns" etcd --name pe-b --data-dir "$work/etcd" --listen-client-urls http://127.0.0.1:2379 \
    --advertise-client-urls http://127.0.0.1:2379 --listen-peer-urls http://127.0.0.1:2380 \
    --initial-advertise-peer-urls http://127.0.0.1:2380 --initial-cluster pe-b=http://127.0.0.1:2380 \
    --log-level warn > "$work/etcd.log" 2>&1 &
etcd_pid=$!
for _ in $(seq 100); do ip netns exec "$ns" env ETCDCTL_API=3 etcdctl get probe >/dev/null 2>&1 && break; sleep 0.1; done
# What flanneld's leases look like, COUNT of them, written through the JSON gateway.
leases() {
    ip netns exec "$ns" python3 - "$@" <<'PY'
import base64, json, sys, time, urllib.request
mode, first, count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
def post(path, body):
    request = urllib.request.Request("http://127.0.0.1:2379" + path, json.dumps(body).encode(), {"Content-Type": "application/json"})
    return json.loads(urllib.request.urlopen(request).read())
b64 = lambda text: base64.b64encode(text.encode()).decode()
def put(i):
    subnet = f"10.{64 + i // 256}.{i % 256}.0"
    value = {"PublicIP": f"172.16.{i // 250}.{i % 250 + 1}", "BackendType": "vxlan",
             "BackendData": {"VNI": 1, "VtepMAC": f"02:aa:ac:10:{i // 256:02x}:{i % 256:02x}"}}
    post("/v3/kv/put", {"key": b64(f"/coreos.com/network/subnets/{subnet}-24"), "value": b64(json.dumps(value))})
if mode == "config":
    post("/v3/kv/put", {"key": b64("/coreos.com/network/config"),
                        "value": b64(json.dumps({"Network": "10.64.0.0/10", "Backend": {"Type": "vxlan"}}))})
elif mode == "write":
    for i in range(first, first + count):
        put(i)
elif mode == "one":
    # One lease at a time: write it, then wait for the switch to log it in force.
    log, times = sys.argv[4], []
    for i in range(first, first + count):
        with open(log) as f:
            before = f.read().count("leased peers in force")
        started = time.perf_counter()
        put(i)
        while True:
            with open(log) as f:
                if f.read().count("leased peers in force") > before:
                    break
            time.sleep(0.0005)
        times.append((time.perf_counter() - started) * 1000)
        time.sleep(0.05)
    times.sort()
    print(f"  one lease added, write to in force: median {times[len(times) // 2]:.1f} ms, worst {times[-1]:.1f} ms ({count} leases)")
PY
}
leases config 0 0
started=$(date +%s.%N)
leases write 0 "$count"
echo "  $count leases written by the script in $(awk -v s="$started" -v e="$(date +%s.%N)" 'BEGIN { printf "%.2f", e - s }') s"
cat > "$work/node.yaml" <<YAML
node: pe-b
ports:
  - {name: eth0, tap: pebup, mac: 02:00:c0:a8:4e:0a, ip: 192.168.78.10/24}
overlay:
  backend: vxlan
  etcd: {endpoints: [http://127.0.0.1:2379]}
YAML
rss_kb() { awk '/^VmRSS/ { print $2 }' "/proc/$1/status"; }
run_switch() {
    : > "$work/switch.log"
    ip netns exec "$ns" "$pier" switch --config "$work/node.yaml" > "$work/switch.log" 2>&1 &
    switch_pid=$!
}
stop_switch() { kill -TERM "$switch_pid"; wait "$switch_pid" 2>/dev/null || true; switch_pid=""; }

started=$(date +%s.%N)
run_switch
for _ in $(seq 3000); do grep -q "etcd: $count leased peers in force" "$work/switch.log" && break; sleep 0.005; done
grep -q "etcd: $count leased peers in force" "$work/switch.log" || { echo "the switch never had $count peers:"; cat "$work/switch.log"; exit 1; }
elapsed=$(awk -v s="$started" -v e="$(date +%s.%N)" 'BEGIN { printf "%.3f", e - s }')
own=$(grep -o "etcd: $count leased peers in force ([0-9.]* ms" "$work/switch.log" | grep -o "([0-9.]*" | tr -d '(')
echo "  pier switch start to $count peers in force: $elapsed s (list handed over to pipeline swapped: $own ms)"
sleep 1
with_peers=$(rss_kb "$switch_pid")
leases one "$count" 20 "$work/switch.log"
stop_switch
# The same node with no lease but its own: the memory the peers take.
ip netns exec "$ns" env ETCDCTL_API=3 etcdctl del --prefix /coreos.com/network/subnets/ >/dev/null
run_switch
for _ in $(seq 2000); do grep -q "etcd: 0 leased peers in force" "$work/switch.log" && break; sleep 0.005; done
sleep 1
without=$(rss_kb "$switch_pid")
stop_switch
echo "  resident memory: $((with_peers / 1024)) MB with $((count + 20)) peers, $((without / 1024)) MB with none: $(( (with_peers - without) * 1024 / (count + 20) )) bytes a peer"

# Linux: the kernel programmed as flanneld programs it on each lease, all at once.
ip netns add pe-bk
ip -n pe-bk link add pebkv type veth peer name pebkw
ip -n pe-bk addr add 192.168.78.10/24 dev pebkv
ip -n pe-bk link set pebkv up
ip -n pe-bk link add pebkt type vxlan id 1 dstport 8472 local 192.168.78.10 dev pebkv nolearning
ip -n pe-bk addr add 10.127.255.0/32 dev pebkt
ip -n pe-bk link set pebkt up
python3 - "$count" "$work" <<'PY'
import sys
count, work = int(sys.argv[1]), sys.argv[2]
with open(f"{work}/ip.batch", "w") as ip, open(f"{work}/bridge.batch", "w") as bridge:
    for i in range(count):
        network, mac = f"10.{64 + i // 256}.{i % 256}.0", f"02:aa:ac:10:{i // 256:02x}:{i % 256:02x}"
        ip.write(f"neigh replace {network} lladdr {mac} dev pebkt nud permanent\n")
        ip.write(f"route replace {network}/24 via {network} dev pebkt onlink\n")
        bridge.write(f"fdb append {mac} dev pebkt dst 172.16.{i // 250}.{i % 250 + 1}\n")
PY
started=$(date +%s.%N)
ip -n pe-bk -batch "$work/ip.batch"
bridge -n pe-bk -batch "$work/bridge.batch"
echo "  linux (ip -batch, bridge -batch) programming $count peers: $(awk -v s="$started" -v e="$(date +%s.%N)" 'BEGIN { printf "%.3f", e - s }') s"
