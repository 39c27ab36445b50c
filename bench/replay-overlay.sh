#!/usr/bin/env bash
# Overlay throughput on a capture, end to end through `pier replay` (read, pipeline, write):
# the same capture replayed pass-through, through node A's overlay encap (pod port in, uplink
# out), and the encapsulated result through node B's decap (uplink in, pod port out), frames
# per second side by side (with the generated nodes also node A routing the same capture to
# its gateway without the overlay, which tells the overlay's share from the L2/L3 pipeline's). Best of three wall-clock runs each; compare the ratios, the
# machine is shared.
#
# Usage: bench/replay-overlay.sh [CAPTURE [TOPOLOGY_A POD_PORT TOPOLOGY_B]]
#   Without arguments: a generated 1,000,000-frame capture of 64-byte UDP frames from pods on
#   10.244.1.0/24 to 10.244.2.7, and two generated nodes (VXLAN, VNI 1, port 8472).
#   With your own capture: what your pods send, entering node A on POD_PORT; TOPOLOGY_A must
#   route it to a peer's podCIDR, and TOPOLOGY_B is that peer (the uplink port is eth0 in both).
#   BACKEND=ipip or BACKEND=udp changes the generated nodes' backend.
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
make -s release >/dev/null
pier=.build/release/pier
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
capture=${1:-}
node_a=${2:-$work/node-a.yaml}
pod_port=${3:-pod1}
node_b=${4:-$work/node-b.yaml}
backend=${BACKEND:-vxlan}
generate_capture_unless_given
# Node A's uplink, pod port and bridge, with one static neighbour: IP $1, MAC $2.
node_a_base() {
    cat <<YAML
node: node-a
ports:
  - {name: eth0, mac: "02:00:c0:a8:01:19", ip: 192.168.1.25/24, gateway: 192.168.1.1}
  - {name: pod1}
neighbors:
  - {ip: $1, mac: "$2"}
bridges:
  - {name: cni0, ports: [pod1], ip: 10.244.1.1/24, mac: "02:00:00:00:00:02"}
YAML
}
if [ -z "${2:-}" ]; then
    {
        node_a_base 192.168.1.30 02:00:c0:a8:01:1e
        cat <<YAML
overlay:
  backend: $backend
  podCIDR: 10.244.1.0/24
  vtepMAC: "02:aa:00:00:00:01"
  peers:
    - {node: node-b, ip: 192.168.1.30, podCIDR: 10.244.2.0/24, vtepMAC: "02:aa:00:00:00:02"}
YAML
    } >"$node_a"
    # The same node without the overlay, routing to the gateway: what the L2/L3 pipeline costs alone.
    node_a_base 192.168.1.1 02:00:c0:a8:01:01 >"$work/node-a-routed.yaml"
    cat >"$node_b" <<YAML
node: node-b
ports:
  - {name: eth0, mac: "02:00:c0:a8:01:1e", ip: 192.168.1.30/24, gateway: 192.168.1.1}
  - {name: pod1}
neighbors:
  - {ip: 192.168.1.25, mac: "02:00:c0:a8:01:19"}
  - {ip: 10.244.2.7, mac: "02:00:0a:f4:02:07"}
bridges:
  - name: cni0
    ports: [pod1]
    ip: 10.244.2.1/24
    fdbStatic: [{mac: "02:00:0a:f4:02:07", port: pod1}]
overlay:
  backend: $backend
  podCIDR: 10.244.2.0/24
  vtepMAC: "02:aa:00:00:00:02"
  peers:
    - {node: node-a, ip: 192.168.1.25, podCIDR: 10.244.1.0/24, vtepMAC: "02:aa:00:00:00:01"}
YAML
fi

count() { sed -n "s/^  $1: in [0-9]* ([0-9]* bytes), out \([0-9]*\) .*/\1/p"; }

frames=$($pier replay --in p0="$capture" | sed -n 's/^replay: \([0-9]*\) frames in.*/\1/p')
encap=(replay --config "$node_a" --in "$pod_port=$capture" --out eth0="$work/tunnel.pcap")
decap=(replay --config "$node_b" --in eth0="$work/tunnel.pcap" --out "$pod_port=$work/pods.pcap")
encapsulated=$($pier "${encap[@]}" | count eth0)
delivered=$($pier "${decap[@]}" | count "$pod_port")
pass_s=$(best_of_three $pier replay --in p0="$capture" --out p0="$work/pass.pcap")
encap_s=$(best_of_three $pier "${encap[@]}")
decap_s=$(best_of_three $pier "${decap[@]}")
routed_s=""
if [ -f "$work/node-a-routed.yaml" ]; then
    routed_s=$(best_of_three $pier replay --config "$work/node-a-routed.yaml" --in pod1="$capture" --out eth0="$work/routed.pcap")
fi
awk -v n="$frames" -v e="$encapsulated" -v d="$delivered" -v p="$pass_s" -v es="$encap_s" -v ds="$decap_s" -v b="$backend" -v rs="$routed_s" 'BEGIN {
    printf "capture: %d frames; backend %s: %d encapsulated by node A, %d delivered by node B\n", n, b, e, d
    printf "%-34s %8s %10s\n", "replay", "seconds", "Mfps"
    printf "%-34s %8.3f %10.2f\n", "pass-through (no topology)", p, n / p / 1e6
    if (rs != "") printf "%-34s %8.3f %10.2f\n", "node A routed, no overlay", rs, n / rs / 1e6
    printf "%-34s %8.3f %10.2f\n", "node A: encap (pod port -> eth0)", es, n / es / 1e6
    printf "%-34s %8.3f %10.2f\n", "node B: decap (eth0 -> pod port)", ds, e / ds / 1e6
    printf "encap / pass-through speed: %.2f\n", p / es
}'
