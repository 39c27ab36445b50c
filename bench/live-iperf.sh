#!/usr/bin/env bash
# Live TCP throughput through `pier switch` (without offloads and GRO, as before GRO; without
# offloads; with --offload; with --offload and --busy-poll 200000, which keeps the loop polling
# through the 50 ms between pings), beside the same
# pair of namespaces joined by a Linux bridge and, when `openvswitch-switch` is installed, by
# Open vSwitch's userspace datapath (datapath_type=netdev, TAP ports, userspace-tso-enable=true,
# its own ovsdb-server and ovs-vswitchd in a namespace of their own, stopped at the end), in
# the same run (a shared machine is noisy: compare the ratios). One iperf3
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
    stop_daemons "$work"/ovs/*.pid
    for ns in plv-kbr plv-k1 plv-k2 plv-ovs plv-o1 plv-o2; do ip netns delete "$ns" 2>/dev/null || true; done
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
run_pier --gro off
nogro_gbps=$gbps; nogro_rtt=$latency
run_pier
pier_gbps=$gbps; pier_rtt=$latency; pier_stats=$stats
run_pier --offload
offload_gbps=$gbps; offload_rtt=$latency; offload_stats=$stats
run_pier --offload --busy-poll 200000
busy_gbps=$gbps; busy_rtt=$latency

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

# Open vSwitch's userspace datapath, when installed: sets ovs_gbps and ovs_rtt (empty if not).
measure_ovs() {
    ovs_gbps=""; ovs_rtt=""
    ovs_wanted || return 0
    local dir="$work/ovs" vsctl
    mkdir -p "$dir"
    vsctl="ovs-vsctl --db=unix:$dir/db.sock"
    ip netns add plv-ovs; ip netns add plv-o1; ip netns add plv-o2
    ovsdb-tool create "$dir/conf.db" /usr/share/openvswitch/vswitch.ovsschema
    ip netns exec plv-ovs ovsdb-server "$dir/conf.db" --remote="punix:$dir/db.sock" --pidfile="$dir/db.pid" \
        --unixctl="$dir/db.ctl" --log-file="$dir/db.log" --detach 2>/dev/null
    $vsctl --no-wait init
    $vsctl --no-wait set Open_vSwitch . other_config:userspace-tso-enable=true
    OVS_RUNDIR="$dir" ip netns exec plv-ovs ovs-vswitchd "unix:$dir/db.sock" --pidfile="$dir/vs.pid" \
        --unixctl="$dir/vs.ctl" --log-file="$dir/vs.log" --detach 2>/dev/null
    $vsctl add-br plvobr -- set bridge plvobr datapath_type=netdev
    for n in 1 2; do
        $vsctl add-port plvobr plvo$n -- set Interface plvo$n type=tap
        ip -n plv-ovs link set plvo$n netns plv-o$n
        ip -n plv-o$n link set plvo$n name eth0
        container_end plv-o$n 172.31.9.$((n + 1))/24
    done
    first_ping plv-o1 172.31.9.3
    ovs_gbps=$(throughput plv-o1 plv-o2 172.31.9.3)
    ovs_rtt=$(rtt plv-o1 172.31.9.3)
}
measure_ovs

echo "iperf3 TCP, one stream, ${seconds} s, between two network namespaces:"
result_line "pier switch --gro off (no offloads): " "$nogro_gbps" "$nogro_rtt" ratio
result_line "pier switch (TAP, no offloads, GRO): " "$pier_gbps" "$pier_rtt" ratio
result_line "pier switch --offload (IFF_VNET_HDR): " "$offload_gbps" "$offload_rtt" ratio
result_line "pier switch --offload --busy-poll:   " "$busy_gbps" "$busy_rtt" ratio
result_line "linux bridge (veth):                 " "$linux_gbps" "$linux_rtt"
if [ -n "$ovs_gbps" ]; then result_line "ovs userspace (TAP, userspace TSO):  " "$ovs_gbps" "$ovs_rtt"; fi
echo "  no offloads: $pier_stats"
echo "  offloads:    $offload_stats"
echo "  ratio pier/linux: $(ratio "$pier_gbps") without offloads, $(ratio "$offload_gbps") with"
echo "  ratio GRO on/off without offloads: $(awk -v a="$pier_gbps" -v b="$nogro_gbps" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }')"
echo "  ping rtt ratio pier/linux: $(awk -v a="$offload_rtt" -v b="$linux_rtt" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'), with --busy-poll $(awk -v a="$busy_rtt" -v b="$linux_rtt" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }')"
if [ -n "$ovs_gbps" ]; then
    echo "  ratio pier/ovs-userspace: $(awk -v p="$offload_gbps" -v o="$ovs_gbps" 'BEGIN { if (o > 0) printf "%.2f", p / o; else print "n/a" }') with --offload"
else
    echo "  (open vswitch not installed: no OVS userspace peer)"
fi
