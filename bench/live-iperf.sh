#!/usr/bin/env bash
# Live TCP throughput through `pier switch` (without, then with --offload), beside the same
# pair of namespaces joined by a Linux bridge, in the same run (a shared machine is noisy: compare the ratio). One iperf3
# stream for SECONDS each way round, then ping RTT over each path. Needs root, iproute2,
# iperf3 and ping. Every namespace, TAP and veth it makes starts with plv and is removed on exit.
#
# Usage: bench/live-iperf.sh [SECONDS] [PIER]   (default: 20 s, .build/release/pier)
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
seconds=${1:-20}
pier=${2:-.build/release/pier}
require_live live-iperf ip iperf3 ping

work=$(mktemp -d)
topology="$work/bench.yaml"
cat > "$topology" <<YAML
node: plv-bench
ports:
  - {name: c1, tap: plvbench1}
  - {name: c2, tap: plvbench2}
bridges:
  - {name: br0, ports: [c1, c2], ip: 172.31.9.1/24, mac: 02:42:ac:1f:09:01}
containers:
  - {name: plv-bench1, port: c1, ip: 172.31.9.2/24}
  - {name: plv-bench2, port: c2, ip: 172.31.9.3/24}
YAML
switch_pid=""
cleanup() {
    [ -n "$switch_pid" ] && kill -TERM "$switch_pid" 2>/dev/null && wait "$switch_pid" 2>/dev/null || true
    for pid in $(cat "$work"/*.pid 2>/dev/null); do kill "$pid" 2>/dev/null || true; done
    "$pier" down "$topology" >/dev/null 2>&1 || true
    for ns in plv-kbr plv-k1 plv-k2; do ip netns delete "$ns" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT

# Pier: pier up, then the switch, without and with offloads ($1: extra switch options).
run_pier() {
    "$pier" switch --config "$topology" "$@" > "$work/switch.log" 2>&1 &
    switch_pid=$!
    for _ in $(seq 50); do [ "$(grep -c ': up (' "$work/switch.log")" -ge 2 ] && break; sleep 0.1; done
    first_ping plv-bench1 172.31.9.3
    gbps=$(throughput plv-bench1 plv-bench2 172.31.9.3)
    latency=$(rtt plv-bench1 172.31.9.3)
    kill -TERM "$switch_pid"; wait "$switch_pid" || true; switch_pid=""
    stats="$(grep "stats:" "$work/switch.log" | tail -1 | sed 's/^switch: //');$(grep "allocations:" "$work/switch.log")"
}
"$pier" up "$topology" >/dev/null
run_pier
pier_gbps=$gbps; pier_rtt=$latency; pier_stats=$stats
run_pier --offload
offload_gbps=$gbps; offload_rtt=$latency; offload_stats=$stats

# Linux: the same pair on a kernel bridge (in its own namespace), joined by veths.
ip netns add plv-kbr; ip netns add plv-k1; ip netns add plv-k2
ip -n plv-kbr link add plvkbr type bridge
ip -n plv-kbr link set plvkbr up
for n in 1 2; do
    ip -n plv-kbr link add plvk$n type veth peer name eth0 netns plv-k$n
    ip -n plv-kbr link set plvk$n master plvkbr up
    container_end plv-k$n 172.31.9.$((n + 1))/24
done
measure_linux plv-k1 plv-k2 172.31.9.3

echo "iperf3 TCP, one stream, ${seconds} s, between two network namespaces:"
result_line "pier switch (TAP, no offloads):      " "$pier_gbps" "$pier_rtt" ratio
result_line "pier switch --offload (IFF_VNET_HDR): " "$offload_gbps" "$offload_rtt" ratio
result_line "linux bridge (veth):                 " "$linux_gbps" "$linux_rtt"
echo "  ratio pier/linux: $(ratio "$pier_gbps") without offloads, $(ratio "$offload_gbps") with"
echo "  no offloads: $pier_stats"
echo "  offloads:    $offload_stats"
