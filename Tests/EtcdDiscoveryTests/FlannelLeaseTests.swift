import Foundation
import Testing
import Topology
import Wire
@testable import EtcdDiscovery

/// flannel's key layout and JSON, read and written; the network config and its defaults; the
/// stream splitter of watch replies; the lease table's checks.
struct FlannelLeaseTests {
    /// A value exactly as flanneld v0.22 writes it for a vxlan node (its `LeaseAttrs`, with
    /// `PublicIPv6` null), under the key it writes it at.
    @Test func readsFlanneldsVXLANLease() throws {
        let value = #"{"PublicIP":"192.168.9.10","PublicIPv6":null,"BackendType":"vxlan","BackendData":{"VNI":1,"VtepMAC":"ee:1c:5f:2a:03:91"}}"#
        let lease = try FlannelLease(key: "/coreos.com/network/subnets/10.244.3.0-24", value: Data(value.utf8))
        #expect(lease == FlannelLease(subnet: IPv4Prefix("10.244.3.0/24")!, publicIP: IPv4Address("192.168.9.10")!,
                                      backendType: "vxlan", vni: 1, vtepMAC: MACAddress("ee:1c:5f:2a:03:91")))
        let peer = lease.peer(lease: 0x694d_8a5c_2f1e_3b07, key: "/coreos.com/network/subnets/10.244.3.0-24")
        #expect(peer.node == "10.244.3.0-24" && peer.lease?.leaseText == "694d8a5c2f1e3b07")
    }

    /// What Pier writes reads back equal, and is the JSON flanneld writes (no BackendData for host-gw).
    @Test func writesFlannelsJSON() throws {
        let vxlan = FlannelLease(subnet: IPv4Prefix("10.244.1.0/24")!, publicIP: IPv4Address("192.168.9.10")!,
                                 backendType: "vxlan", vni: 1, vtepMAC: MACAddress("02:aa:c0:a8:09:0a"))
        #expect(String(decoding: vxlan.json, as: UTF8.self)
            == #"{"PublicIP":"192.168.9.10","BackendType":"vxlan","BackendData":{"VNI":1,"VtepMAC":"02:aa:c0:a8:09:0a"}}"#)
        #expect(try FlannelLease(key: FlannelLease.key(prefix: "/coreos.com/network", subnet: vxlan.subnet), value: vxlan.json) == vxlan)
        let hostGW = FlannelLease(subnet: IPv4Prefix("10.244.2.0/24")!, publicIP: IPv4Address("192.168.9.20")!, backendType: "host-gw")
        #expect(String(decoding: hostGW.json, as: UTF8.self) == #"{"PublicIP":"192.168.9.20","BackendType":"host-gw"}"#)
        #expect(FlannelLease.key(prefix: "/coreos.com/network", subnet: hostGW.subnet) == "/coreos.com/network/subnets/10.244.2.0-24")
    }

    /// Values flannel would not write are refused with what is wrong.
    @Test(arguments: [
        ("/p/subnets/10.244.1.0-24", "not json", "not a JSON object"),
        ("/p/subnets/10.244.1.0-24", #"{"BackendType":"vxlan"}"#, "PublicIP"),
        ("/p/subnets/10.244.1.0-24", #"{"PublicIP":"192.168.9.1","BackendType":"vxlan"}"#, "VtepMAC"),
        ("/p/subnets/10.244.1.7-24", #"{"PublicIP":"192.168.9.1","BackendType":"host-gw"}"#, "does not name a subnet"),
        ("/p/subnets/garbage", #"{"PublicIP":"192.168.9.1","BackendType":"host-gw"}"#, "does not name a subnet"),
    ])
    func refusesBadLeases(key: String, value: String, problem: String) {
        #expect(throws: FlannelLease.Problem.self) { try FlannelLease(key: key, value: Data(value.utf8)) }
        do { _ = try FlannelLease(key: key, value: Data(value.utf8)) } catch { #expect(error.description.contains(problem), "\(error)") }
    }

    /// flannel's defaults: SubnetLen 24, SubnetMin the second subnet, SubnetMax the last,
    /// backend udp; the overlay must agree on backend, VNI and port, each problem naming both.
    @Test func networkConfigDefaultsAndAgreement() throws {
        let network = try FlannelNetworkConfig(json: Data(#"{"Network":"10.244.0.0/16","Backend":{"Type":"vxlan"}}"#.utf8))
        #expect(network.subnetLength == 24 && network.subnetMin == IPv4Address("10.244.1.0") && network.subnetMax == IPv4Address("10.244.255.0"))
        #expect(Array(network.leasableSubnets).count == 255 && network.vni == 1 && network.port == 0)
        var overlay = OverlayConfig(backend: .vxlan, podCIDR: OverlayConfig.unleasedPodCIDR)
        #expect(network.disagreements(with: overlay).isEmpty)
        overlay.vni = 4
        #expect(network.disagreements(with: overlay) == ["overlay.vni is 4 but the network config's Backend.VNI is 1"])
        overlay = OverlayConfig(backend: .vxlan, port: 4789, podCIDR: OverlayConfig.unleasedPodCIDR)
        #expect(network.disagreements(with: overlay) == ["overlay.port is 4789 but the network config's Backend.Port is 8472"])
        overlay = OverlayConfig(backend: .hostGW, podCIDR: OverlayConfig.unleasedPodCIDR)
        #expect(network.disagreements(with: overlay) == ["overlay.backend is host-gw but the network config's Backend.Type is vxlan"])
        let udp = try FlannelNetworkConfig(json: Data(#"{"Network":"10.1.0.0/16","SubnetLen":26,"SubnetMin":"10.1.0.64"}"#.utf8))
        #expect(udp.backend == "udp" && Array(udp.leasableSubnets.prefix(2)).map(\.description) == ["10.1.0.64/26", "10.1.0.128/26"])
        #expect(throws: FlannelNetworkConfig.Problem.self) { try FlannelNetworkConfig(json: Data(#"{"Network":"10.1.0.0/16","SubnetLen":8}"#.utf8)) }
    }

    /// Objects are found whole however the bytes are cut, with braces inside strings.
    @Test func splitsAStreamOfObjects() {
        let text = #"{"result":{"a":"}{"}}"# + "\n" + #"{"result":{"events":[{"kv":{}}]}}"# + "\n"
        let bytes = Array(text.utf8)
        for cut in 1..<bytes.count {
            var stream = JSONObjectStream()
            let objects = stream.append(bytes[..<cut]) + stream.append(bytes[cut...])
            #expect(objects.map { String(decoding: $0, as: UTF8.self) } == [#"{"result":{"a":"}{"}}"#, #"{"result":{"events":[{"kv":{}}]}}"#])
        }
    }

    /// Bad leases are left out and reported once per revision: outside the network, claiming
    /// this node's subnet, another backend, malformed; this node's own lease is no peer.
    @Test func leaseTableLeavesOutBadLeases() throws {
        let network = try FlannelNetworkConfig(json: Data(#"{"Network":"10.244.0.0/16","Backend":{"Type":"vxlan"}}"#.utf8))
        let own = FlannelLease(subnet: IPv4Prefix("10.244.1.0/24")!, publicIP: IPv4Address("192.168.9.10")!, backendType: "vxlan")
        var table = LeaseTable(network: network, own: own)
        func entry(_ name: String, _ value: String, revision: Int64 = 5) -> EtcdGateway.Entry {
            .init(key: "/coreos.com/network/subnets/" + name, value: Data(value.utf8), modRevision: revision, lease: 7)
        }
        let good = #"{"PublicIP":"192.168.9.20","BackendType":"vxlan","BackendData":{"VNI":1,"VtepMAC":"02:aa:00:00:00:02"}}"#
        let problems = table.replaceAll([
            entry("10.244.1.0-24", #"{"PublicIP":"192.168.9.10","BackendType":"vxlan","BackendData":{"VNI":1,"VtepMAC":"02:aa:00:00:00:01"}}"#),
            entry("10.244.2.0-24", good),
            entry("10.245.3.0-24", #"{"PublicIP":"192.168.9.30","BackendType":"vxlan","BackendData":{"VNI":1,"VtepMAC":"02:aa:00:00:00:03"}}"#),
            entry("10.244.4.0-24", #"{"PublicIP":"192.168.9.40","BackendType":"host-gw"}"#),
            entry("10.244.5.0-24", "{broken"),
        ])
        #expect(table.peers.map(\.node) == ["10.244.2.0-24"])
        #expect(problems.count == 3, "\(problems)")
        #expect(problems.contains { $0.contains("10.245.3.0-24") && $0.contains("not a /24 of the network 10.244.0.0/16") })
        #expect(problems.contains { $0.contains("10.244.4.0-24") && $0.contains("backend host-gw is not the network's vxlan") })
        #expect(problems.contains { $0.contains("10.244.5.0-24") && $0.contains("not a JSON object") })
        // Seen again at the same revision: nothing new to say; a new claim on our subnet is said once.
        #expect(table.apply([.put(entry("10.244.2.0-24", good, revision: 6))]).isEmpty)
        let claim = table.apply([.put(entry("10.244.1.0-24", #"{"PublicIP":"192.168.9.99","BackendType":"vxlan","BackendData":{"VNI":1,"VtepMAC":"02:aa:00:00:00:09"}}"#, revision: 7))])
        #expect(claim.count == 1 && claim[0].contains("this node's own"), "\(claim)")
        #expect(table.apply([.delete(key: "/coreos.com/network/subnets/10.244.2.0-24", revision: 8)]).isEmpty)
        #expect(table.peers.isEmpty)
    }
}
