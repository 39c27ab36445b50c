/// The example topology of DESIGN.md ("Topology contract"), copied verbatim, comments and all.
let designExample = """
node: node-a
ports:                          # every port is a source and a sink of frames
  - name: eth0                  # the node's uplink
    tap: pier-eth0              # TAP device used by `pier switch` (optional in replay)
    mac: 02:00:c0:a8:01:19
    ip: 192.168.1.25/24         # the node IP: MASQUERADE source, NodePort address, VTEP address
    gateway: 192.168.1.1        # next hop for everything off-node
  - name: c1
    tap: pier-c1
  - name: c2
    tap: pier-c2
neighbors:                      # static ARP entries (learned ones come from ARP replies)
  - {ip: 192.168.1.1, mac: 02:00:c0:a8:01:01}
bridges:
  - name: docker0
    ports: [c1, c2]
    ip: 172.17.0.1/16           # the gateway address containers use; answers ARP and ping
    mac: 02:42:ac:11:00:01
    hairpin: false              # may a frame leave by the port it came in on
    fdb: {capacity: 4096, ageing: 300}      # seconds
nat:
  masquerade:                   # iptables -t nat -A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE
    - {source: 172.17.0.0/16, out: eth0}
  portMappings:                 # docker run -p 3306:3306
    - {proto: tcp, hostPort: 3306, to: 172.17.0.5:3306}
services:                       # what kube-proxy programs for a Service
  - name: web
    namespace: default
    clusterIP: 10.96.0.10
    ports: [{proto: tcp, port: 80, targetPort: 8080, nodePort: 30080}]
    endpoints: [10.244.1.5, 10.244.2.7]
    sessionAffinity: None       # or ClientIP
overlay:                        # what flannel sets up on this node
  backend: vxlan                # vxlan | host-gw | ipip | udp
  vni: 1
  port: 8472
  mtu: 1450
  podCIDR: 10.244.1.0/24        # this node's pod subnet
  vtepMAC: 02:aa:00:00:00:01
  peers:
    - {node: node-b, ip: 192.168.9.30, podCIDR: 10.244.2.0/24, vtepMAC: 02:aa:00:00:00:02}
conntrack: {capacity: 262144}
containers:                     # for `pier up`: network namespaces as containers
  - {name: c1, port: c1, ip: 172.17.0.2/16, mode: bridge}
  - {name: c2, port: c2, ip: 172.17.0.3/16, mode: bridge}
  - {name: c3, mode: container:c1}         # shares c1's namespace, as a pod's containers do
"""
