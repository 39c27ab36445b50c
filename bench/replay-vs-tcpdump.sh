#!/usr/bin/env bash
# Pass-through replay throughput: `pier replay` beside `tcpdump -r IN -w OUT` on the same
# capture, in the same run (timings on a shared machine are noisy: compare the ratio).
# With --pcapng: the same frames as classic pcap and as pcapng (bench/make-capture.py
# --pcapng), pier on both and tcpdump on the pcapng; both pier outputs must be the classic
# capture byte for byte.
#
# Usage: bench/replay-vs-tcpdump.sh [CAPTURE]   (default: a generated 1,000,000-frame capture)
#        bench/replay-vs-tcpdump.sh --pcapng [FRAMES]
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
make -s release >/dev/null
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
if [ "${1:-}" = "--pcapng" ]; then
    frames=${2:-1000000}
    python3 bench/make-capture.py "$work/in.pcap" "$frames" 64
    python3 bench/make-capture.py --pcapng "$work/in.pcapng" "$frames" 64
    classic_s=$(best_of_three .build/release/pier replay --in p0="$work/in.pcap" --out p0="$work/classic.pcap")
    pcapng_s=$(best_of_three .build/release/pier replay --in p0="$work/in.pcapng" --out p0="$work/pcapng.pcap")
    tcpdump_s=$(best_of_three tcpdump -r "$work/in.pcapng" -w "$work/tcpdump.pcap")
    cmp -s "$work/in.pcap" "$work/classic.pcap" && cmp -s "$work/in.pcap" "$work/pcapng.pcap" && same="byte-identical" || same="DIFFERENT"
    awk -v n="$frames" -v c="$classic_s" -v p="$pcapng_s" -v t="$tcpdump_s" -v same="$same" 'BEGIN {
        printf "frames: %d (outputs %s to the classic input)\n", n, same
        printf "pier replay, classic pcap in:  %.3f s  %.2f Mfps\n", c, n / c / 1e6
        printf "pier replay, pcapng in:        %.3f s  %.2f Mfps\n", p, n / p / 1e6
        printf "tcpdump -r pcapng -w:          %.3f s  %.2f Mfps\n", t, n / t / 1e6
        printf "pcapng / classic speed:        %.2f\n", c / p
        printf "pcapng / tcpdump speed:        %.2f\n", t / p
    }'
    exit 0
fi
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
