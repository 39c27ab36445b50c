#!/usr/bin/env bash
# Pass-through replay throughput: `pier replay` beside `tcpdump -r IN -w OUT` on the same
# capture, in the same run (timings on a shared machine are noisy: compare the ratio).
#
# Usage: bench/replay-vs-tcpdump.sh [CAPTURE]   (default: a generated 1,000,000-frame capture)
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
make -s release >/dev/null
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
capture=${1:-}
generate_capture_unless_given
frames=$(.build/release/pier replay --in p0="$capture" | sed -n 's/^replay: \([0-9]*\) frames in.*/\1/p')

pier_s=$(best_of_three .build/release/pier replay --in p0="$capture" --out p0="$work/pier.pcap")
tcpdump_s=$(best_of_three tcpdump -r "$capture" -w "$work/tcpdump.pcap")
cmp -s "$capture" "$work/pier.pcap" && same="byte-identical" || same="DIFFERENT"
awk -v n="$frames" -v p="$pier_s" -v t="$tcpdump_s" -v same="$same" 'BEGIN {
    printf "frames: %d\n", n
    printf "pier replay (pass-through): %.3f s  %.2f Mfps  (output %s)\n", p, n / p / 1e6, same
    printf "tcpdump -r -w:              %.3f s  %.2f Mfps\n", t, n / t / 1e6
    printf "pier / tcpdump speed:       %.2f\n", t / p
}'
