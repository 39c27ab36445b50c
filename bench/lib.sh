# Shell functions the bench scripts share. Sourced from the repository root after
# `set -euo pipefail` (`. bench/lib.sh`), never run on its own.

# Says which line of the script failed (set -e otherwise ends it without a word).
trap 'echo "$0: line $LINENO: exit $? from: $BASH_COMMAND" >&2' ERR

# Pings address $2 from namespace $1 until it answers (at most 5 tries of 2 s): the first
# answer needs ARP through a switch that may have just come up on a busy machine.
first_ping() {
    for _ in 1 2 3 4; do ip netns exec "$1" ping -c 1 -W 2 "$2" >/dev/null 2>&1 && return 0; done
    ip netns exec "$1" ping -c 1 -W 2 "$2" >/dev/null
}

# Runs "$@" three times, output discarded, and prints the best wall time in seconds.
best_of_three() {
    local best=""
    for _ in 1 2 3; do
        local start end
        start=$(date +%s.%N)
        "$@" >/dev/null 2>&1
        end=$(date +%s.%N)
        best=$(echo "$end $start $best" | awk '{t=$1-$2; if ($3=="" || t<$3) print t; else print $3}')
    done
    echo "$best"
}

# Unless $capture is set already, points it at $work/in.pcap, a generated capture of
# 1,000,000 64-byte UDP frames from 10.244.1.0/24 pods to 10.244.2.7 (bench/make-capture.py).
generate_capture_unless_given() {
    if [ -z "$capture" ]; then
        capture="$work/in.pcap"
        python3 bench/make-capture.py "$capture" 1000000 64
    fi
}

# The live benches' preconditions: root, the tools "${@:2}" installed, $pier built.
# Exits 2 with a message starting with $1 (the script's name) otherwise.
require_live() {
    local name=$1
    shift
    [ "$(id -u)" -eq 0 ] || { echo "$name: needs root (network namespaces)"; exit 2; }
    for tool in "$@"; do
        command -v "$tool" >/dev/null || { echo "$name: $tool is not installed (make test-deps)"; exit 2; }
    done
    [ -x "$pier" ] || { echo "$name: $pier is not built (swift build -c release --product pier)"; exit 2; }
}

# One iperf3 TCP stream for $seconds from namespace $1 to address $3, the server in namespace
# $2 (its PID in $work/server-$2.pid while it runs); prints Gbit/s at the receiver.
throughput() {
    ip netns exec "$2" iperf3 -s -1 -B "$3" >/dev/null 2>&1 &
    echo $! > "$work/server-$2.pid"
    for _ in $(seq 50); do ip netns exec "$2" ss -ltn 2>/dev/null | grep -q ":5201 " && break; sleep 0.1; done
    ip netns exec "$1" iperf3 -c "$3" -t "$seconds" -f m | awk '/receiver/ { for (i = 1; i < NF; i++) if ($(i+1) == "Mbits/sec") printf "%.2f\n", $i / 1000 }'
    wait "$(cat "$work/server-$2.pid")" 2>/dev/null || true
}

# Brings up eth0 with address $2 (and lo) in namespace $1: a container's end of a veth.
container_end() {
    ip -n "$1" addr add "$2" dev eth0
    ip -n "$1" link set eth0 up
    ip -n "$1" link set lo up
}

# The Linux side of a live bench: one ping from namespace $1 to address $3 (server namespace
# $2) to fill the neighbour caches, then `throughput` and `rtt` into linux_gbps and linux_rtt.
measure_linux() {
    first_ping "$1" "$3"
    linux_gbps=$(throughput "$1" "$2" "$3")
    linux_rtt=$(rtt "$1" "$3")
}

# Average ping RTT in ms from namespace $1 to address $2.
rtt() { ip netns exec "$1" ping -c 20 -i 0.05 -q "$2" | awk -F/ '/^rtt/ { print $5 }'; }

# One result line: "  $1" (the label, padded as printed), $2 Gbit/s in 6 columns, RTT $3 ms,
# and with a fourth argument (any) the pier/linux ratio of $2.
result_line() {
    if [ $# -ge 4 ]; then
        printf "  %s%6s Gbit/s   ping rtt avg %s ms   pier/linux %s\n" "$1" "$2" "$3" "$(ratio "$2")"
    else
        printf "  %s%6s Gbit/s   ping rtt avg %s ms\n" "$1" "$2" "$3"
    fi
}

# $1 Gbit/s over $linux_gbps, two decimals ("n/a" when Linux measured nothing).
ratio() { awk -v p="$1" -v l="$linux_gbps" 'BEGIN { if (l > 0) printf "%.2f", p / l; else print "n/a" }'; }

# True when Open vSwitch's userspace datapath should be measured beside Pier: installed, and not
# turned off with PIER_BENCH_OVS=0 (the test suite's smoke runs do).
ovs_wanted() {
    [ "${PIER_BENCH_OVS:-1}" != 0 ] && command -v ovs-vswitchd >/dev/null && command -v ovsdb-tool >/dev/null
}

# Stops the daemons whose pid files are given: SIGTERM, then SIGKILL for any still running after
# two seconds (a busy ovs-vswitchd has been seen to outlive SIGTERM and spin on).
stop_daemons() {
    local pids=() pid
    for file in "$@"; do [ -f "$file" ] && pids+=("$(cat "$file")"); done
    [ ${#pids[@]} -eq 0 ] && return 0
    for pid in "${pids[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    for _ in $(seq 20); do
        local alive=0
        for pid in "${pids[@]}"; do kill -0 "$pid" 2>/dev/null && alive=1; done
        [ "$alive" -eq 0 ] && return 0
        sleep 0.1
    done
    for pid in "${pids[@]}"; do kill -KILL "$pid" 2>/dev/null || true; done
}
