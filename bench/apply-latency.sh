#!/usr/bin/env bash
# How fast a running switch takes changes (issue 8's targets), and what changes cost the traffic:
#   1. with 10,000 Services in force, the latency of a one-Service apply (request sent on the
#      control socket to the reply, which comes once the change is in force), median and worst
#      of 50; then a 10,000-Service fragment applied whole;
#   2. one iperf3 stream between two containers for SECONDS, without changes and then with 100
#      applies a second (a Service's endpoints toggled), and the ratio.
# Needs root, iproute2, iperf3 and python3. Namespaces and TAPs start with plv-ab; all removed on exit.
#
# Usage: bench/apply-latency.sh [SECONDS] [PIER]   (default: 10 s, .build/release/pier)
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
seconds=${1:-10}
pier=${2:-.build/release/pier}
require_live apply-latency ip iperf3 python3
work=$(mktemp -d)
topology="$work/node.yaml"
{
    cat <<YAML
node: plv-ab
ports:
  - {name: c1, tap: plvab1}
  - {name: c2, tap: plvab2}
bridges:
  - {name: br0, ports: [c1, c2], ip: 172.31.10.1/24, mac: 02:42:ac:1f:0a:01}
containers:
  - {name: plv-ab1, port: c1, ip: 172.31.10.2/24}
  - {name: plv-ab2, port: c2, ip: 172.31.10.3/24}
YAML
    python3 - <<'PY'
print("services:")
for i in range(10000):
    print(f"  - {{name: s{i}, namespace: bench, clusterIP: 10.{96 + i // 65536}.{i // 256 % 256}.{i % 256}, "
          f"ports: [{{proto: tcp, port: 80, targetPort: 8080}}], endpoints: [172.31.10.3]}}")
PY
} > "$topology"
switch_pid=""
cleanup() {
    [ -n "$switch_pid" ] && kill -TERM "$switch_pid" 2>/dev/null && wait "$switch_pid" 2>/dev/null || true
    for pid in $(cat "$work"/*.pid 2>/dev/null); do kill "$pid" 2>/dev/null || true; done
    "$pier" down "$topology" >/dev/null 2>&1 || true
    rm -rf "$work"
}
trap cleanup EXIT
"$pier" down "$topology" >/dev/null 2>&1 || true
"$pier" up "$topology" >/dev/null
started=$(date +%s.%N)
: > "$work/switch.log"
"$pier" switch --config "$topology" > "$work/switch.log" 2>&1 &
switch_pid=$!
for _ in $(seq 200); do [ "$(grep -c ': up (' "$work/switch.log" || true)" -ge 2 ] && break; sleep 0.05; done
echo "switch with 10,000 Services up in $(awk -v s="$started" -v e="$(date +%s.%N)" 'BEGIN { printf "%.2f", e - s }') s"

# A control client: requests on one connection, each timed from send to reply (milliseconds).
client() {
    python3 - "$@" <<'PY'
import json, socket, statistics, sys, time
mode = sys.argv[1]
sock = socket.socket(socket.AF_UNIX)
sock.settimeout(60)
sock.connect("/run/pier/plv-ab.sock")
reader = sock.makefile("rb")
def ask(yaml):
    started = time.perf_counter()
    sock.sendall((json.dumps({"v": 1, "op": "apply", "file": "bench", "yaml": yaml}) + "\n").encode())
    reply = json.loads(reader.readline())
    assert reply["ok"], reply
    return (time.perf_counter() - started) * 1000
def service(endpoint):
    return ("services:\n  - {name: s0, namespace: bench, clusterIP: 10.96.0.0, "
            f"ports: [{{proto: tcp, port: 80, targetPort: 8080}}], endpoints: [{endpoint}]}}\n")
if mode == "one":
    times = sorted(ask(service("172.31.10.2" if i % 2 else "172.31.10.3")) for i in range(50))
    print(f"one-Service apply, 10,000 present: median {statistics.median(times):.1f} ms, worst {times[-1]:.1f} ms (50 applies)")
elif mode == "whole":
    lines = ["services:"] + [f"  - {{name: s{i}, namespace: bench, clusterIP: 10.{96 + i // 65536}.{i // 256 % 256}.{i % 256}, "
                             f"ports: [{{proto: tcp, port: 80, targetPort: 8081}}], endpoints: [172.31.10.2]}}" for i in range(10000)]
    print(f"10,000-Service fragment applied whole: {ask(chr(10).join(lines) + chr(10)):.0f} ms")
else:
    deadline = time.time() + float(sys.argv[2])
    count = 0
    while time.time() < deadline:
        ask(service("172.31.10.2" if count % 2 else "172.31.10.3"))
        count += 1
        time.sleep(max(0, 0.01 - 0.0005))
    print(f"{count} applies in {sys.argv[2]} s", file=sys.stderr)
PY
}
client one
client whole
first_ping plv-ab1 172.31.10.3
quiet=$(throughput plv-ab1 plv-ab2 172.31.10.3)
client churn "$seconds" 2> "$work/churn.txt" &
echo $! > "$work/churn.pid"
busy=$(throughput plv-ab1 plv-ab2 172.31.10.3)
wait "$(cat "$work/churn.pid")" 2>/dev/null || true
echo "iperf3 c1 -> c2: $quiet Gbit/s without changes, $busy Gbit/s with $(cat "$work/churn.txt")"
awk -v q="$quiet" -v b="$busy" 'BEGIN { printf "ratio with/without changes: %.2f\n", (q > 0 ? b / q : 0) }'
