#!/usr/bin/env bash
# Instructions per frame, counted exactly by callgrind (no hardware counters here): a routed,
# VXLAN-encapsulated `pier replay` (a pod's 64-byte UDP frames through node A's overlay, as in
# replay-overlay.sh) and `pier bench switch`. Each figure is the difference between a long and a
# short run divided by the frames between them, so start-up and file handling cancel out.
# Several binaries side by side (before and after a change): instructions do not depend on
# the machine's load, so one run each is exact.
#
# Usage: bench/instructions.sh [PIER…]   (default: .build/release/pier, built first)
set -euo pipefail
cd "$(dirname "$0")/.."
command -v valgrind >/dev/null || { echo "instructions.sh: valgrind is not installed"; exit 2; }
if [ $# -eq 0 ]; then make -s release >/dev/null; set -- .build/release/pier; fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
long=200000 short=4
python3 bench/make-capture.py "$work/long.pcap" $long 64
python3 bench/make-capture.py "$work/short.pcap" $short 64
cat >"$work/node-a.yaml" <<YAML
node: node-a
ports:
  - {name: eth0, mac: "02:00:c0:a8:01:19", ip: 192.168.1.25/24, gateway: 192.168.1.1}
  - {name: pod1}
neighbors:
  - {ip: 192.168.1.30, mac: "02:00:c0:a8:01:1e"}
bridges:
  - {name: cni0, ports: [pod1], ip: 10.244.1.1/24, mac: "02:00:00:00:00:02"}
overlay:
  backend: vxlan
  podCIDR: 10.244.1.0/24
  vtepMAC: "02:aa:00:00:00:01"
  peers:
    - {node: node-b, ip: 192.168.1.30, podCIDR: 10.244.2.0/24, vtepMAC: "02:aa:00:00:00:02"}
YAML

# Total instructions callgrind counts for "$@".
instructions() {
    valgrind --tool=callgrind --callgrind-out-file="$work/cg.out" "$@" >/dev/null 2>"$work/cg.err" \
        || { cat "$work/cg.err" >&2; exit 1; }
    sed -n 's/^summary: \([0-9]*\).*/\1/p' "$work/cg.out"
}

printf "%-40s %14s %14s\n" "binary" "encap replay" "bench switch"
for binary in "$@"; do
    copy="$work/pier-$(basename "$(dirname "$(dirname "$binary")")")-$RANDOM"
    cp "$binary" "$copy" && strip -g "$copy"
    a=$(instructions "$copy" replay --config "$work/node-a.yaml" --in pod1="$work/long.pcap" --out eth0="$work/out.pcap")
    b=$(instructions "$copy" replay --config "$work/node-a.yaml" --in pod1="$work/short.pcap" --out eth0="$work/out.pcap")
    c=$(instructions "$copy" bench switch --packets 400000)
    d=$(instructions "$copy" bench switch --packets 200000)
    awk -v n="$binary" -v a="$a" -v b="$b" -v c="$c" -v d="$d" -v l=$long -v s=$short \
        'BEGIN { printf "%-40s %14.1f %14.1f\n", n, (a - b) / (l - s), (c - d) / 200000 }'
done
