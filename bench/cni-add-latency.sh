#!/usr/bin/env bash
# CNI ADD latency (issue 13): COUNT ADD/DEL cycles of Pier's plugin against a running switch,
# beside the same cycles of the standard `bridge` plugin (Debian's containernetworking-plugins,
# a Linux bridge and veths), in the same run; both with host-local IPAM. Each ADD is timed from
# the plugin's start to its exit with the result (as a runtime sees it); prints the median,
# the 99th percentile and the worst. Needs root, iproute2, python3 and /usr/lib/cni/host-local.
# Then MANY containers (default 200) ADDed to the one switch, each in a namespace of its own,
# and left there: the ADD latency as the switch fills, that every port is up and every container
# reaches the bridge, and the switch's memory; then all DELeted.
# Namespaces, TAPs and the Linux bridge start with pcn; all removed on exit.
#
# Usage: bench/cni-add-latency.sh [COUNT] [PIER] [MANY]   (default: 100, .build/release/pier, 200)
set -euo pipefail
cd "$(dirname "$0")/.."
. bench/lib.sh
count=${1:-100}
pier=${2:-.build/release/pier}
many=${3:-200}
require_live cni-add-latency ip python3
[ -x /usr/lib/cni/host-local ] && [ -x /usr/lib/cni/bridge ] || { echo "cni-add-latency: needs containernetworking-plugins (make test-deps)"; exit 2; }
work=$(mktemp -d)
cat > "$work/node.yaml" <<YAML
node: pcn-bench
ports:
  - {name: up0, tap: pcnbenchup}
bridges:
  - {name: cni0, ports: [up0], ip: 10.235.0.1/16, mac: 02:42:0a:eb:00:01}
YAML
switch_pid=""
cleanup() {
    [ -n "$switch_pid" ] && kill -TERM "$switch_pid" 2>/dev/null && wait "$switch_pid" 2>/dev/null || true
    ip netns delete pcn-bench1 2>/dev/null || true
    for n in $(seq "$many"); do ip netns delete "pcn-m$n" 2>/dev/null || true; done
    ip link delete pcnbenchbr 2>/dev/null || true
    ip link delete pcnbenchup 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
"$pier" switch --config "$work/node.yaml" > "$work/switch.log" 2>&1 &
switch_pid=$!
ip netns add pcn-bench1
for _ in $(seq 50); do [ -S /run/pier/pcn-bench.sock ] && break; sleep 0.1; done

python3 - "$count" "$pier" "$work" "$many" "$switch_pid" <<'PY'
import json, os, subprocess, sys, time
count, pier, work, many, switch_pid = int(sys.argv[1]), sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]
def ipam(subnet):
    return {"type": "host-local", "subnet": subnet, "gateway": subnet.replace("0.0/16", "0.1").replace("0/24", "1"),
            "dataDir": work + "/ipam", "routes": [{"dst": "0.0.0.0/0"}]}
plugins = [
    ("pier", os.path.abspath(pier), {"cniVersion": "1.0.0", "name": "pcn-pier", "type": "pier", "node": "pcn-bench",
                                     "bridge": "cni0", "ipam": ipam("10.235.0.0/16")}),
    ("bridge", "/usr/lib/cni/bridge", {"cniVersion": "1.0.0", "name": "pcn-bridge", "type": "bridge", "bridge": "pcnbenchbr",
                                       "isGateway": True, "ipam": ipam("10.236.1.0/24")}),
]
times = {name: [] for name, _, _ in plugins}
def call(binary, command, config, n, netns="/run/netns/pcn-bench1"):
    env = {"CNI_COMMAND": command, "CNI_CONTAINERID": "pcn-bench-%d" % n, "CNI_NETNS": netns,
           "CNI_IFNAME": "eth0", "CNI_PATH": "/usr/lib/cni", "PATH": "/usr/sbin:/usr/bin:/sbin:/bin"}
    start = time.perf_counter()
    done = subprocess.run([binary], input=json.dumps(config).encode(), env=env, capture_output=True)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit("%s %s failed: %s %s" % (binary, command, done.stdout.decode(), done.stderr.decode()))
    return (elapsed, done.stdout) if command == "ADD" else elapsed
# Interleaved, so both see the same machine.
for n in range(count):
    for name, binary, config in plugins:
        times[name].append(call(binary, "ADD", config, n)[0])
        call(binary, "DEL", config, n)
print("CNI ADD latency, %d ADD/DEL cycles each, plugin start to result (host-local IPAM):" % count)
for name, _, _ in plugins:
    ordered = sorted(times[name])
    median = ordered[len(ordered) // 2] * 1000
    p99 = ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000
    print("  %-7s median %6.1f ms   p99 %6.1f ms   worst %6.1f ms" % (name, median, p99, ordered[-1] * 1000))

def stat(values):
    ordered = sorted(values)
    return ordered[len(ordered) // 2] * 1000, ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))] * 1000, ordered[-1] * 1000
def rss():
    for line in open("/proc/%s/status" % switch_pid):
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
# MANY containers left on the one switch.
_, binary, config = plugins[0]
before = rss()
added, results = [], {}
for n in range(1, many + 1):
    subprocess.run(["ip", "netns", "add", "pcn-m%d" % n], check=True)
    elapsed, output = call(binary, "ADD", config, 10000 + n, "/run/netns/pcn-m%d" % n)
    added.append(elapsed)
    results[n] = output
ports = subprocess.run([pier, "get", "--node", "pcn-bench", "port"], capture_output=True, text=True).stdout
up = ports.count("netns: /run/netns/pcn-m")  # each ADD waited for its port to be up
reach = sum(1 for n in range(1, many + 1)
            if subprocess.run(["ip", "netns", "exec", "pcn-m%d" % n, "ping", "-c", "1", "-W", "2", "10.235.0.1"], capture_output=True).returncode == 0)
after = rss()
print("%d containers on one switch: ports %d, reaching the bridge %d; ADD latency first 10 median %.1f ms, last 10 median %.1f ms, all: median %.1f p99 %.1f worst %.1f ms" % (
    many, up, reach, stat(added[:10])[0], stat(added[-10:])[0], *stat(added)))
print("  switch memory (VmRSS) %d KiB before, %d KiB with %d containers: %.1f KiB per container" % (before, after, many, (after - before) / many))
for n in range(1, many + 1):
    config_del = dict(config, prevResult=json.loads(results[n]))
    call(binary, "DEL", config_del, 10000 + n, "/run/netns/pcn-m%d" % n)
    subprocess.run(["ip", "netns", "delete", "pcn-m%d" % n])
PY
