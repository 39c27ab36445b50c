#!/usr/bin/env bash
# Pass-through replay of the same frames as pcapng and as classic pcap, beside
# `tcpdump -r IN.pcapng -w OUT`, in the same run (a shared machine is noisy: compare ratios).
# Both pier outputs must be the classic capture byte for byte.
#
# Usage: bench/replay-pcapng.sh [FRAMES]   (default 1,000,000 64-byte frames, bench/make-capture.py)
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
make -s release >/dev/null
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
frames=${1:-1000000}
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
