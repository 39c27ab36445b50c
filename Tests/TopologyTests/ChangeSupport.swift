import Testing
import Topology

/// DESIGN.md's example, loaded: the running topology most change tests start from.
func designTopology() throws -> Topology {
    try Topology.parse(yaml: designExample, file: "DESIGN.md")
}

/// The error that applying `yaml` (as `change.yaml`) to `running` throws, or nil when it applies.
func applyError(_ yaml: String, to running: Topology) -> ConfigError? {
    do {
        _ = try running.applying(yaml: yaml, file: "change.yaml")
        return nil
    } catch {
        return error
    }
}

/// A topology that uses every key the contract has, for the round trips through `yaml()` and `json()`.
let everyKey = """
node: node-a
ports:
  - {name: eth0, tap: pier-eth0, mac: 02:00:c0:a8:01:19, ip: [192.168.1.25/24, "fd00:1::19/64"], gateway: [192.168.1.1, "fe80::1"]}
  - {name: c1, tap: pier-c1}
  - {name: c2, tap: pier-c2}
  - {name: c4, bridge: docker0, netns: /run/netns/c4, tap: eth0}
  - {name: c5, bridge: docker0, netns: /proc/1234/ns/net, tap: eth0}
neighbors:
  - {ip: 192.168.1.1, mac: 02:00:c0:a8:01:01}
  - {ip: "fd00:1::1", mac: 02:00:c0:a8:01:02}
bridges:
  - name: docker0
    ports: [c1, c2]
    ip: [172.17.0.1/16, "fd00:17::1/64"]
    mac: 02:42:ac:11:00:01
    hairpin: true
    fdb: {capacity: 1024, ageing: 0}
    fdbStatic: [{mac: 02:42:ac:11:00:05, port: c4}]
  - {name: empty0}
nat:
  masquerade: [{source: 172.17.0.0/16, out: eth0}]
  portMappings:
    - {proto: tcp, hostPort: 3306, to: 172.17.0.5:3306}
    - {proto: udp, hostPort: 53, to: 172.17.0.6:5353}
services:
  - name: web
    namespace: shop
    clusterIP: 10.96.0.10
    ports: [{proto: tcp, port: 80, targetPort: 8080, nodePort: 30080}, {proto: udp, port: 53}]
    endpoints: [10.244.1.5, 10.244.2.7]
    sessionAffinity: ClientIP
  - {name: headless, clusterIP: 10.96.0.11, ports: [{port: 443}]}
overlay:
  backend: vxlan
  vni: 7
  port: 4789
  mtu: 1400
  podCIDR: 10.244.1.0/24
  vtepMAC: 02:aa:00:00:00:01
  sourcePorts: {min: 50000, max: 60000}
  peers:
    - {node: node-b, ip: 192.168.1.30, podCIDR: 10.244.2.0/24, vtepMAC: 02:aa:00:00:00:02}
    - {node: node-c, ip: 192.168.9.31, podCIDR: 10.244.3.0/24}
conntrack: {capacity: 1000, timeouts: {tcp_established: 7440, udp: 10}, invalid: accept}
containers:
  - {name: c1, port: c1, ip: 172.17.0.2/16, mode: bridge}
  - {name: c2, port: c2, ip: [172.17.0.3/16, "fd00:17::3/64"]}
  - {name: c3, mode: container:c1}
  - {name: c6, mode: none}
"""
