#!/usr/bin/env bash
# make demo's live part (root): pier up of the bundled two-container topology, pier switch
# serving it, a ping between the containers through Pier, pier fdb, then SIGTERM and pier down.
set -euo pipefail
cd "$(dirname "$0")/.."
pier=${PIER:-.build/release/pier}
topology=fixtures/topologies/live-demo.yaml
log=.build/demo-switch.log
switch_pid=""
finish() {
    if [ -n "$switch_pid" ]; then kill -TERM "$switch_pid" 2>/dev/null || true; wait "$switch_pid" 2>/dev/null || true; fi
    echo
    echo "== pier down $topology"
    "$pier" down "$topology"
    ip netns delete plv-demo3 2>/dev/null || true
}
trap finish EXIT
"$pier" down "$topology" >/dev/null
echo "== pier up $topology (two network namespaces, each with a TAP device as eth0)"
"$pier" up "$topology"
echo
echo "== pier switch --config $topology --capture c1=.build/demo-live-c1.pcap (in the background)"
"$pier" switch --config "$topology" --capture c1=.build/demo-live-c1.pcap > "$log" 2>&1 &
switch_pid=$!
for _ in $(seq 50); do [ "$(grep -c ': up (' "$log")" -ge 2 ] && break; sleep 0.1; done
echo
echo "== ip netns exec plv-demo1 ping -c 3 172.31.0.3 (plv-demo1 to plv-demo2, through Pier)"
ip netns exec plv-demo1 ping -c 3 -i 0.2 172.31.0.3
echo
echo "== ip netns exec plv-demo2 ping -c 2 172.31.0.1 (the bridge's address, answered by Pier)"
ip netns exec plv-demo2 ping -c 2 -i 0.2 172.31.0.1
echo
echo "== pier fdb (the running switch's table, through /run/pier/plv-demo.sock)"
"$pier" fdb --node plv-demo
echo
echo "== pier apply fixtures/changes/live-demo-add.yaml (a third container joins the running switch)"
ip netns delete plv-demo3 2>/dev/null || true
ip netns add plv-demo3
ip -n plv-demo3 tuntap add dev eth0 mode tap
ip -n plv-demo3 addr add 172.31.0.4/24 dev eth0
ip -n plv-demo3 link set eth0 up
"$pier" apply --node plv-demo fixtures/changes/live-demo-add.yaml
for _ in $(seq 20); do grep -q 'c3: up' "$log" && break; sleep 0.1; done
ip netns exec plv-demo3 ping -c 2 -i 0.2 172.31.0.2
echo
echo "== pier get port --node plv-demo"
"$pier" get --node plv-demo port
echo
echo "== pier delete port c3 --node plv-demo"
"$pier" delete --node plv-demo port c3
echo
echo "== SIGTERM to the switch: its log"
kill -TERM "$switch_pid"; wait "$switch_pid" || true; switch_pid=""
cat "$log"
