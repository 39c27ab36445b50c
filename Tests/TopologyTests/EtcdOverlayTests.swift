import Testing
import Topology
import Wire

/// `overlay.etcd` (issue 14): read, written back by `get`, its errors; peers learned from etcd
/// merged with the file's.
struct EtcdOverlayTests {
    static let base = """
        node: node-a
        ports:
          - {name: eth0, ip: 192.168.9.10/24}
        overlay:
          backend: vxlan
          etcd: {endpoints: [http://127.0.0.1:2379, "http://10.0.0.2:2379"]}
        """

    /// Without podCIDR the overlay waits for its lease (no subnet check); the prefix defaults
    /// to flannel's; `yaml()` loads back to the same topology.
    @Test func readsEtcdWithoutPodCIDR() throws {
        let topology = try Topology.parse(yaml: Self.base, file: "topo.yaml")
        let overlay = try #require(topology.overlay)
        #expect(overlay.etcd == EtcdSettings(endpoints: ["http://127.0.0.1:2379", "http://10.0.0.2:2379"], prefix: "/coreos.com/network"))
        #expect(overlay.awaitsLease && topology.overlayNodeIP == IPv4Address("192.168.9.10"))
        #expect(try Topology.parse(yaml: topology.yaml(), file: "get") == topology)
        let leased = try topology.leasing(podCIDR: IPv4Prefix("10.244.3.0/24")!)
        #expect(leased.overlay?.podCIDR.description == "10.244.3.0/24" && leased.overlay?.awaitsLease == false)
        // SIGHUP with the same file, or one with another MTU, keeps the leased subnet.
        #expect(try leased.reloading(from: topology, yaml: Self.base, file: "topo.yaml").changes.isEmpty)
        let reloaded = try leased.reloading(from: leased, yaml: Self.base + "\n  mtu: 1400\n", file: "topo.yaml")
        #expect(reloaded.topology.overlay?.podCIDR.description == "10.244.3.0/24" && reloaded.topology.overlay?.mtu == 1400)
    }

    /// Bad settings are errors that say what was expected.
    @Test(arguments: [
        Failure("an endpoint with a path", "node: a\nports: [{name: eth0}]\noverlay:\n  backend: vxlan\n  etcd: {endpoints: [\"http://h:2379/v3\"]}\n",
                line: 5, path: "overlay.etcd.endpoints[0]", says: "expected an etcd URL like http://127.0.0.1:2379"),
        Failure("no endpoints", "node: a\nports: [{name: eth0}]\noverlay:\n  backend: vxlan\n  etcd: {endpoints: []}\n",
                line: 5, path: "overlay.etcd", says: "expected at least one etcd endpoint"),
        Failure("a prefix with a trailing slash", "node: a\nports: [{name: eth0}]\noverlay:\n  backend: vxlan\n  etcd: {endpoints: [\"http://h:2379\"], prefix: /x/}\n",
                line: 5, path: "overlay.etcd.prefix", says: "a leading /, no trailing /"),
        Failure("no podCIDR and no etcd", "node: a\nports: [{name: eth0}]\noverlay:\n  backend: vxlan\n",
                line: 3, path: "overlay.podCIDR", says: "this node's pod subnet"),
    ])
    func refusesBadSettings(_ failure: Failure) {
        failure.check()
    }

    /// Leased peers join the file's, are replaced and removed by the next list, and show their
    /// lease in `get peer` (which applies back as no change); a leased peer whose node the file
    /// names is left out; one that breaks a rule is refused naming it.
    @Test func mergesLeasedPeers() throws {
        let yaml = Self.base + "\n  podCIDR: 10.244.1.0/24\n  peers:\n    - {node: node-b, ip: 192.168.9.20, podCIDR: 10.244.2.0/24}\n"
        let topology = try Topology.parse(yaml: yaml, file: "topo.yaml")
        func leased(_ n: Int, ip: Int, lease: Int64 = 0x694d) -> OverlayPeer {
            OverlayPeer(node: "10.244.\(n).0-24", ip: IPv4Address(192, 168, 9, UInt8(ip)), podCIDR: IPv4Prefix("10.244.\(n).0/24")!,
                        vtepMAC: MACAddress("02:aa:00:00:00:0\(n)"), lease: PeerLease(lease: lease, key: "/coreos.com/network/subnets/10.244.\(n).0-24"))
        }
        let (first, added) = try topology.replacingLeasedPeers([leased(3, ip: 30), leased(4, ip: 40)])
        #expect(added.map(\.description) == ["added peer 10.244.3.0-24", "added peer 10.244.4.0-24"])
        #expect(first.overlay?.peers.map(\.node) == ["node-b", "10.244.3.0-24", "10.244.4.0-24"])
        let text = first.yaml(.peer)
        #expect(text.contains("lease: {id: 694d, key: /coreos.com/network/subnets/10.244.3.0-24}"), "\(text)")
        #expect(try first.applying(yaml: text, file: "get").changes.isEmpty)
        let (second, changes) = try first.replacingLeasedPeers([leased(4, ip: 41)])
        #expect(changes.map(\.description) == ["removed peer 10.244.3.0-24", "replaced peer 10.244.4.0-24"])
        #expect(second.overlay?.peers.map(\.node) == ["node-b", "10.244.4.0-24"])
        var named = leased(5, ip: 50)
        named.node = "node-b"
        #expect(try second.replacingLeasedPeers([named, leased(4, ip: 41)]).changes.isEmpty)
        do {
            _ = try second.replacingLeasedPeers([leased(4, ip: 41), leased(6, ip: 20)])
            Issue.record("a leased peer with node-b's IP was accepted")
        } catch {
            #expect(error.node == "10.244.6.0-24" && error.problem.problem.contains("192.168.9.20"), "\(error.problem) \(error.node ?? "-")")
        }
    }
}
