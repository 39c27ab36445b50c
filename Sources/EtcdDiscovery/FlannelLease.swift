import Foundation
import Topology
import Wire

/// One node's subnet lease as flanneld writes it: the key `PREFIX/subnets/10.244.1.0-24` and
/// the JSON value `{"PublicIP": "192.168.9.10", "BackendType": "vxlan",
/// "BackendData": {"VNI": 1, "VtepMAC": "02:aa:c0:a8:09:0a"}}` (flannel's `LeaseAttrs`;
/// host-gw and ipip leases have no `BackendData`).
public struct FlannelLease: Sendable, Equatable {
    /// The node's pod subnet.
    public var subnet: IPv4Prefix
    /// The node's IP: the tunnel's outer address, or host-gw's next hop.
    public var publicIP: IPv4Address
    /// `vxlan`, `host-gw`, `ipip` or `udp`.
    public var backendType: String
    /// The VXLAN network identifier (vxlan).
    public var vni: UInt32?
    /// The node's VTEP MAC (vxlan).
    public var vtepMAC: MACAddress?

    /// Why a lease is ignored.
    public struct Problem: Error, CustomStringConvertible {
        /// What is wrong with it.
        public var description: String
    }

    /// Makes a lease.
    public init(subnet: IPv4Prefix, publicIP: IPv4Address, backendType: String, vni: UInt32? = nil, vtepMAC: MACAddress? = nil) {
        self.subnet = subnet
        self.publicIP = publicIP
        self.backendType = backendType
        self.vni = vni
        self.vtepMAC = vtepMAC
    }

    // MARK: Keys

    /// `PREFIX/subnets/`: where the leases are.
    public static func subnetsPrefix(_ prefix: String) -> String { prefix + "/subnets/" }

    /// The key of `subnet`'s lease: `PREFIX/subnets/10.244.1.0-24`.
    public static func key(prefix: String, subnet: IPv4Prefix) -> String {
        subnetsPrefix(prefix) + keyName(subnet)
    }

    /// The last part of a lease's key, `10.244.1.0-24`: also the peer's node name.
    public static func keyName(_ subnet: IPv4Prefix) -> String { "\(subnet.network)-\(subnet.length)" }

    /// The subnet a key names, if it names one (`…/10.244.1.0-24`, the network's first address).
    public static func subnet(key: String) -> IPv4Prefix? {
        guard let name = key.split(separator: "/").last, let dash = name.lastIndex(of: "-"),
              let address = IPv4Address(name[..<dash]), let length = Int(name[name.index(after: dash)...]),
              (0...32).contains(length) else { return nil }
        let subnet = IPv4Prefix(address: address, length: length)
        return subnet.network == address ? subnet : nil
    }

    // MARK: Values

    /// Reads a lease: `key` names the subnet, `value` is flannel's JSON.
    public init(key: String, value: Data) throws(Problem) {
        guard let subnet = Self.subnet(key: key) else {
            throw Problem(description: "the key does not name a subnet like 10.244.1.0-24")
        }
        guard let object = try? JSONSerialization.jsonObject(with: value) as? [String: Any] else {
            throw Problem(description: "the value is not a JSON object like {\"PublicIP\": \"192.168.9.10\", \"BackendType\": \"vxlan\", …}")
        }
        guard let text = object["PublicIP"] as? String, let publicIP = IPv4Address(text) else {
            throw Problem(description: "PublicIP: expected an IPv4 address, got \(object["PublicIP"].map { "\($0)" } ?? "none")")
        }
        let backendType = (object["BackendType"] as? String) ?? ""
        var vni: UInt32?
        var vtepMAC: MACAddress?
        if backendType == "vxlan" {
            guard let data = object["BackendData"] as? [String: Any], let macText = data["VtepMAC"] as? String,
                  let mac = MACAddress(macText) else {
                throw Problem(description: "BackendData.VtepMAC: expected the node's VTEP MAC, like {\"VNI\": 1, \"VtepMAC\": \"02:aa:c0:a8:09:0a\"}")
            }
            vtepMAC = mac
            vni = (data["VNI"] as? Int).flatMap { UInt32(exactly: $0) }
        }
        self.init(subnet: subnet, publicIP: publicIP, backendType: backendType, vni: vni, vtepMAC: vtepMAC)
    }

    /// The JSON value flanneld writes for this lease.
    public var json: Data {
        var text = "{\"PublicIP\":\"\(publicIP)\",\"BackendType\":\"\(backendType)\""
        if backendType == "vxlan", let vtepMAC {
            text += ",\"BackendData\":{\"VNI\":\(vni ?? OverlayConfig.defaultVNI),\"VtepMAC\":\"\(vtepMAC)\"}"
        }
        return Data((text + "}").utf8)
    }

    /// The overlay peer this lease describes, named by its key (`10.244.2.0-24`).
    public func peer(lease: Int64, key: String) -> OverlayPeer {
        OverlayPeer(node: Self.keyName(subnet), ip: publicIP, podCIDR: subnet, vtepMAC: vtepMAC,
                    lease: PeerLease(lease: lease, key: key))
    }
}
