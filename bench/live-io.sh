#!/usr/bin/env bash
# System calls per frame in `pier switch` without offloads: the same two namespaces joined by
# a baseline build (BASE, e.g. main's), this build with `--io epoll --gro off`, with `--io uring
# --gro off` and with `--io epoll --gro on` (the default), and a Linux bridge, in the same run. For each: one iperf3 TCP stream and one iperf3 UDP stream
# of 64-byte datagrams (-b 0: as fast as the sender goes) for SECONDS, ping RTT, and with
# STRACE=1 a `strace -c -f` of the switch during 2 s of 64-byte UDP at a fixed rate: the
# system calls per frame received. Needs root, iproute2, iperf3, ping (strace for STRACE=1).
# Every namespace and TAP it makes starts with pu and is removed on exit.
#
# Usage: bench/live-io.sh [SECONDS] [PIER] [BASE]   (default: 10 s, .build/release/pier,
#        /work/main/.build/release/pier)
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
seconds=${1:-10}
pier=${2:-.build/release/pier}
base=${3:-/work/main/.build/release/pier}
require_live live-io ip iperf3 ping

work=$(mktemp -d)
topology="$work/bench.yaml"
cat > "$topology" <<YAML
node: pu-bench
ports:
  - {name: c1, tap: pubench1}
  - {name: c2, tap: pubench2}
bridges:
  - {name: br0, ports: [c1, c2], ip: 172.31.19.1/24, mac: 02:42:ac:1f:13:01}
containers:
  - {name: pu-bench1, port: c1, ip: 172.31.19.2/24}
  - {name: pu-bench2, port: c2, ip: 172.31.19.3/24}
YAML
switch_pid=""
cleanup() {
    [ -n "$switch_pid" ] && kill -TERM "$switch_pid" 2>/dev/null && wait "$switch_pid" 2>/dev/null || true
    for pid in $(cat "$work"/*.pid 2>/dev/null); do kill "$pid" 2>/dev/null || true; done
    "$pier" down "$topology" >/dev/null 2>&1 || true
    for ns in pu-kbr pu-k1 pu-k2; do ip netns delete "$ns" 2>/dev/null || true; done
    rm -rf "$work"
}
trap cleanup EXIT

# 64-byte UDP datagrams for $seconds at rate $4 (0: unlimited) from namespace $1 to address $3
# (server in $2); prints the datagrams per second the receiver got.
small_packets() {
    ip netns exec "$2" iperf3 -s -1 -B "$3" -p 5202 >/dev/null 2>&1 &
    echo $! > "$work/udp-$2.pid"
    for _ in $(seq 50); do ip netns exec "$2" ss -lun 2>/dev/null | grep -q ":5202 " && break; sleep 0.1; done
    ip netns exec "$1" iperf3 -c "$3" -p 5202 -u -l 64 -b "$4" -t "${5:-$seconds}" -J > "$work/udp.json" 2>/dev/null || true
    wait "$(cat "$work/udp-$2.pid")" 2>/dev/null || true
    python3 -c 'import json,sys; e=json.load(open(sys.argv[1]))["end"]["sum"]; print("%.0f" % ((e["packets"]-e["lost_packets"])/e["seconds"]))' "$work/udp.json" 2>/dev/null || echo 0
}

# Runs the switch $1 with options "${@:2}" and measures it: sets gbps, pps, latency, stats, calls.
run_pier() {
    local binary=$1; shift
    "$binary" switch --config "$topology" --stats-interval 0 "$@" > "$work/switch.log" 2>&1 &
    switch_pid=$!
    for _ in $(seq 50); do [ "$(grep -c ': up (' "$work/switch.log")" -ge 2 ] && break; sleep 0.1; done
    first_ping pu-bench1 172.31.19.3
    gbps=$(throughput pu-bench1 pu-bench2 172.31.19.3)
    pps=$(small_packets pu-bench1 pu-bench2 172.31.19.3 0)
    latency=$(rtt pu-bench1 172.31.19.3)
    calls="-"
    if [ "${STRACE:-0}" = 1 ] && command -v strace >/dev/null; then
        calls="ping $(traced_calls ip netns exec pu-bench1 ping -c 500 -i 0.002 -q 172.31.19.3), udp-64 at 20 Mbit/s $(traced_calls small_packets pu-bench1 pu-bench2 172.31.19.3 20M 2)"
    fi
    kill -TERM "$switch_pid"; wait "$switch_pid" || true; switch_pid=""
    stats="$(grep "stats:" "$work/switch.log" | tail -1 | sed 's/^switch: //'); $(grep -o "allocations: [0-9]* on the frame path" "$work/switch.log")"
}

# Runs "$@" (a load) with `strace -c -f` on the switch; prints system calls per frame the
# containers sent meanwhile (strace slows every call, so batches grow: a lower bound for uring).
traced_calls() {
    local before after tracer
    before=$(rx_total)
    strace -c -f -p "$switch_pid" -o "$work/strace.txt" 2>/dev/null &
    tracer=$!
    sleep 0.5
    "$@" >/dev/null 2>&1
    kill -INT "$tracer"; wait "$tracer" 2>/dev/null || true
    after=$(rx_total)
    awk -v frames=$((after - before)) '$NF == "total" { if (frames > 0) printf "%.2f (%d/%d)", $4 / frames, $4, frames }' "$work/strace.txt"
}

# Frames the two containers sent into the switch so far (their eth0's transmit counters).
rx_total() {
    echo $(( $(ip netns exec pu-bench1 cat /sys/class/net/eth0/statistics/tx_packets) \
           + $(ip netns exec pu-bench2 cat /sys/class/net/eth0/statistics/tx_packets) ))
}

"$pier" up "$topology" >/dev/null
declare -A result
for mode in base epoll uring gro; do
    case $mode in
        base) run_pier "$base" ;;
        epoll) run_pier "$pier" --io epoll --gro off ;;
        uring) run_pier "$pier" --io uring --gro off ;;
        gro) run_pier "$pier" --io epoll --gro on ;;
    esac
    result[$mode]="$gbps|$pps|$latency|$calls|$stats"
done

ip netns add pu-kbr; ip netns add pu-k1; ip netns add pu-k2
ip -n pu-kbr link add pukbr type bridge
ip -n pu-kbr link set pukbr up
for n in 1 2; do
    ip -n pu-kbr link add puk$n type veth peer name eth0 netns pu-k$n
    ip -n pu-kbr link set puk$n master pukbr up
    container_end pu-k$n 172.31.19.$((n + 1))/24
done
measure_linux pu-k1 pu-k2 172.31.19.3
linux_pps=$(small_packets pu-k1 pu-k2 172.31.19.3 0)

echo "no offloads; iperf3 TCP ${seconds} s, iperf3 UDP 64-byte datagrams ${seconds} s, ping:"
for mode in base epoll uring gro; do
    IFS='|' read -r g p l c s <<< "${result[$mode]}"
    printf "  %-22s %6s Gbit/s  %8s pkt/s  rtt %s ms  syscalls/frame %s\n" "pier $mode" "$g" "$p" "$l" "$c"
    echo "      $s"
done
printf "  %-22s %6s Gbit/s  %8s pkt/s  rtt %s ms\n" "linux bridge" "$linux_gbps" "$linux_pps" "$linux_rtt"
IFS='|' read -r bg bp bl _ <<< "${result[base]}"
IFS='|' read -r ug up ul _ <<< "${result[uring]}"
IFS='|' read -r gg gp gl _ <<< "${result[gro]}"
awk -v bg="$bg" -v ug="$ug" -v bp="$bp" -v up="$up" -v ul="$ul" -v ll="$linux_rtt" -v gg="$gg" -v gp="$gp" -v gl="$gl" 'BEGIN {
    printf "  uring/base: %.2f Gbit/s, %.2f pkt/s; uring rtt / linux rtt: %.2f\n", ug / bg, up / bp, ul / ll
    printf "  gro/base: %.2f Gbit/s, %.2f pkt/s; gro rtt / linux rtt: %.2f\n", gg / bg, gp / bp, gl / ll }'
