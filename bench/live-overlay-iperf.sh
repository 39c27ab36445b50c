#!/usr/bin/env bash
# Live TCP throughput between pods on two nodes over VXLAN: two `pier switch` nodes (each in
# a network namespace, uplinks joined by a veth underlay), without offloads, with --offload and
# the uplink's UDP-tunnel GSO turned off (Pier segments what enters the tunnel), and with
# --offload (64 KB super-frames cross the tunnel whole: UDP-tunnel GSO on the uplink TAP), beside
# two Linux nodes doing the same with the kernel's own VXLAN devices set up as flannel does
# (onlink route, static neighbour and FDB entries), and, when `openvswitch-switch` is installed,
# two Open vSwitch nodes with the userspace datapath (datapath_type=netdev, the pod on a TAP port
# of br-int, a vxlan port to the other node, the underlay veth on br-phy carrying the node IP),
# in the same run. OVS 3.1 drops TSO packets it would tunnel ("Tunneling packets with HW
# offload flags is not supported"), so its nodes run with userspace-tso-enable=false. One iperf3 stream for
# SECONDS from the pod on node A to the pod on node B, then ping RTT. Needs root, iproute2
# (ip, bridge), iperf3 and ping. Every namespace, TAP and veth it makes starts with plx and
# is removed on exit.
#
# Usage: bench/live-overlay-iperf.sh [SECONDS] [PIER]   (default: 10 s, .build/release/pier)
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
seconds=${1:-10}
pier=${2:-.build/release/pier}
require_live live-overlay-iperf ip bridge iperf3 ping

work=$(mktemp -d)
pids=()
namespaces=(plx-boa plx-bob plx-bka plx-bkb plx-bka1 plx-bkb1 plx-bva plx-bvb plx-bva1 plx-bvb1)
cleanup() {
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true; done
    for pid in $(cat "$work"/*.pid 2>/dev/null); do kill "$pid" 2>/dev/null || true; done
    stop_daemons "$work"/ovs-*/*.pid
    for node in a b; do "$pier" down "$work/$node.yaml" >/dev/null 2>&1 || true; done
    for ns in "${namespaces[@]}"; do ip netns delete "$ns" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT
for ns in "${namespaces[@]}"; do ip netns delete "$ns" 2>/dev/null || true; done

# Two Pier nodes: A 192.168.95.10 (pods 10.95.1.0/24), B 192.168.95.20 (10.95.2.0/24).
ip netns add plx-boa; ip netns add plx-bob
ip -n plx-boa link add plxboav type veth peer name plxbobv netns plx-bob
for i in 0 1; do
    node=$([ $i -eq 0 ] && echo a || echo b); other=$((1 - i)); peer=$([ $i -eq 0 ] && echo b || echo a)
    cat > "$work/$node.yaml" <<YAML
node: plx-bo$node
ports:
  - {name: eth0, tap: plxbo${node}up, mac: 02:00:c0:a8:5f:$((10 + 10 * i)), ip: 192.168.95.$((10 + 10 * i))/24}
  - {name: c1, tap: plxbo${node}1}
bridges:
  - {name: cni0, ports: [c1], ip: 10.95.$((i + 1)).1/24, mac: 0a:58:0a:5f:0$((i + 1)):01}
overlay:
  backend: vxlan
  podCIDR: 10.95.$((i + 1)).0/24
  vtepMAC: 02:aa:00:00:5f:0$((i + 1))
  peers:
    - {node: plx-bo$peer, ip: 192.168.95.$((10 + 10 * other)), podCIDR: 10.95.$((other + 1)).0/24, vtepMAC: 02:aa:00:00:5f:0$((other + 1))}
containers:
  - {name: plx-bo${node}1, port: c1, ip: 10.95.$((i + 1)).2/24}
YAML
    ip -n plx-bo$node link add plxbo${node}br type bridge
    ip -n plx-bo$node link set plxbo${node}br up
    ip -n plx-bo$node link set plxbo${node}v master plxbo${node}br up
    ip -n plx-bo$node tuntap add dev plxbo${node}up mode tap
    ip -n plx-bo$node link set plxbo${node}up master plxbo${node}br up
    "$pier" up "$work/$node.yaml" >/dev/null
done
namespaces+=(plx-boa1 plx-bob1)

# Starts both switches ($@: extra options), measures, stops them; sets gbps, latency, stats.
run_pier() {
    pids=()
    for node in a b; do
        ip netns exec plx-bo$node "$pier" switch --config "$work/$node.yaml" "$@" > "$work/$node.log" 2>&1 &
        pids+=($!)
    done
    for node in a b; do
        for _ in $(seq 50); do [ "$(grep -c ': up (' "$work/$node.log")" -ge 2 ] && break; sleep 0.1; done
    done
    for _ in $(seq 10); do ip netns exec plx-boa1 ping -c 1 -W 1 10.95.2.2 >/dev/null && break; done
    gbps=$(throughput plx-boa1 plx-bob1 10.95.2.2)
    latency=$(rtt plx-boa1 10.95.2.2)
    for pid in "${pids[@]}"; do kill -TERM "$pid"; wait "$pid" || true; done
    pids=()
    stats="$(grep "stats:" "$work/a.log" | tail -1 | sed 's/^switch: //'); $(grep "allocations:" "$work/a.log" | sed 's/^ *//')"
}
run_pier
pier_gbps=$gbps; pier_rtt=$latency; pier_stats=$stats
run_pier --offload --tunnel-gso off
segmented_gbps=$gbps; segmented_rtt=$latency; segmented_stats=$stats
run_pier --offload
offload_gbps=$gbps; offload_rtt=$latency; offload_stats=$stats

# Two Linux nodes with the kernel's VXLAN devices, as flannel sets them up.
ip netns add plx-bka; ip netns add plx-bkb; ip netns add plx-bka1; ip netns add plx-bkb1
ip -n plx-bka link add plxbkav type veth peer name plxbkbv netns plx-bkb
for i in 0 1; do
    node=$([ $i -eq 0 ] && echo a || echo b); other=$((1 - i)); ns=plx-bk$node
    ip -n $ns addr add 192.168.96.$((10 + 10 * i))/24 dev plxbk${node}v
    ip -n $ns link set plxbk${node}v up
    ip -n $ns link add plxbk${node}br type bridge
    ip -n $ns addr add 10.96.$((i + 1)).1/24 dev plxbk${node}br
    ip -n $ns link set plxbk${node}br up
    ip -n $ns link add plxbk${node}1 type veth peer name eth0 netns ${ns}1
    ip -n $ns link set plxbk${node}1 master plxbk${node}br up
    ip netns exec $ns sysctl -qw net.ipv4.ip_forward=1
    ip -n $ns link add plxbk${node}t address 02:aa:00:00:60:0$((i + 1)) type vxlan id 1 dstport 8472 \
        local 192.168.96.$((10 + 10 * i)) dev plxbk${node}v nolearning
    ip -n $ns addr add 10.96.$((i + 1)).0/32 dev plxbk${node}t
    ip -n $ns link set plxbk${node}t up
    ip -n $ns neigh add 10.96.$((other + 1)).0 lladdr 02:aa:00:00:60:0$((other + 1)) dev plxbk${node}t nud permanent
    ip -n $ns route add 10.96.$((other + 1)).0/24 via 10.96.$((other + 1)).0 dev plxbk${node}t onlink
    bridge -n $ns fdb append 02:aa:00:00:60:0$((other + 1)) dev plxbk${node}t dst 192.168.96.$((10 + 10 * other))
    container_end ${ns}1 10.96.$((i + 1)).2/24
    ip -n ${ns}1 route add default via 10.96.$((i + 1)).1
done
measure_linux plx-bka1 plx-bkb1 10.96.2.2

# Two Open vSwitch userspace nodes over VXLAN, when installed: sets ovs_gbps and ovs_rtt.
measure_ovs() {
    ovs_gbps=""; ovs_rtt=""
    ovs_wanted || return 0
    ip netns add plx-bva; ip netns add plx-bvb; ip netns add plx-bva1; ip netns add plx-bvb1
    ip -n plx-bva link add plxbvav type veth peer name plxbvbv netns plx-bvb
    for i in 0 1; do
        local n dir vsctl me other
        n=$([ $i -eq 0 ] && echo a || echo b); dir="$work/ovs-$n"; me=$((10 + 10 * i)); other=$((20 - 10 * i))
        mkdir -p "$dir"; vsctl="ovs-vsctl --db=unix:$dir/db.sock"
        ovsdb-tool create "$dir/conf.db" /usr/share/openvswitch/vswitch.ovsschema
        ip netns exec plx-bv$n ovsdb-server "$dir/conf.db" --remote="punix:$dir/db.sock" --pidfile="$dir/db.pid" \
            --unixctl="$dir/db.ctl" --log-file="$dir/db.log" --detach 2>/dev/null
        $vsctl --no-wait init
        $vsctl --no-wait set Open_vSwitch . other_config:userspace-tso-enable=false
        OVS_RUNDIR="$dir" ip netns exec plx-bv$n ovs-vswitchd "unix:$dir/db.sock" --pidfile="$dir/vs.pid" \
            --unixctl="$dir/vs.ctl" --log-file="$dir/vs.log" --detach 2>/dev/null
        $vsctl add-br plxbv${n}phy -- set bridge plxbv${n}phy datapath_type=netdev
        ip -n plx-bv$n link set plxbv${n}v up
        $vsctl add-port plxbv${n}phy plxbv${n}v
        ip -n plx-bv$n addr add 192.168.98.$me/24 dev plxbv${n}phy
        ip -n plx-bv$n link set plxbv${n}phy up
        $vsctl add-br plxbv${n}int -- set bridge plxbv${n}int datapath_type=netdev
        $vsctl add-port plxbv${n}int plxbv${n}1 -- set Interface plxbv${n}1 type=tap
        $vsctl add-port plxbv${n}int plxbv${n}vx -- set Interface plxbv${n}vx type=vxlan options:key=1 \
            options:dst_port=8472 options:local_ip=192.168.98.$me options:remote_ip=192.168.98.$other
        ip -n plx-bv$n link set plxbv${n}1 netns plx-bv${n}1
        ip -n plx-bv${n}1 link set plxbv${n}1 name eth0
        ip -n plx-bv${n}1 link set eth0 mtu 1450
        container_end plx-bv${n}1 10.98.0.$((2 + i))/24
    done
    first_ping plx-bva1 10.98.0.3
    ovs_gbps=$(throughput plx-bva1 plx-bvb1 10.98.0.3)
    ovs_rtt=$(rtt plx-bva1 10.98.0.3)
}
measure_ovs

echo "iperf3 TCP, one stream, ${seconds} s, pod on node A to pod on node B over VXLAN (VNI 1, port 8472):"
result_line "two pier switch nodes (no offloads):               " "$pier_gbps" "$pier_rtt" ratio
result_line "two pier switch nodes --offload --tunnel-gso off:  " "$segmented_gbps" "$segmented_rtt" ratio
result_line "two pier switch nodes --offload (UDP-tunnel GSO):  " "$offload_gbps" "$offload_rtt" ratio
result_line "two linux nodes (kernel vxlan devices):            " "$linux_gbps" "$linux_rtt"
if [ -n "$ovs_gbps" ]; then result_line "two ovs userspace nodes (netdev, TAP, vxlan port):  " "$ovs_gbps" "$ovs_rtt"; fi
echo "  node A, no offloads:      $pier_stats"
echo "  node A, --tunnel-gso off: $segmented_stats"
echo "  node A, --offload:        $offload_stats"
echo "  ratio pier/linux: $(ratio "$offload_gbps") with --offload (UDP-tunnel GSO), $(ratio "$segmented_gbps") with --tunnel-gso off, $(ratio "$pier_gbps") without offloads"
if [ -n "$ovs_gbps" ]; then
    echo "  ratio pier/ovs-userspace: $(awk -v p="$offload_gbps" -v o="$ovs_gbps" 'BEGIN { if (o > 0) printf "%.2f", p / o; else print "n/a" }') with --offload"
else
    echo "  (open vswitch not installed: no OVS userspace peer)"
fi
