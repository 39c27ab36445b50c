import Foundation
import Topology
import Wire

/// flannel's network configuration, the JSON at `PREFIX/config`:
/// `{"Network": "10.244.0.0/16", "SubnetLen": 24, "SubnetMin": …, "SubnetMax": …,
/// "Backend": {"Type": "vxlan", "VNI": 1, "Port": 8472}}` (flannel's `pkg/subnet/config.go`).
public struct FlannelNetworkConfig: Sendable, Equatable {
    /// The whole pod network.
    public var network: IPv4Prefix
    /// The length of each node's subnet (default 24).
    public var subnetLength: Int
    /// The first subnet a node may lease (default: the second of the network).
    public var subnetMin: IPv4Address
    /// The last subnet a node may lease (default: the last of the network).
    public var subnetMax: IPv4Address
    /// The backend's type (flannel's default is `udp`).
    public var backend: String
    /// The VXLAN network identifier (default 1).
    public var vni: UInt32
    /// The backend's UDP port; 0 when not given (the backend's default).
    public var port: UInt16

    /// Why a config is refused.
    public struct Problem: Error, CustomStringConvertible {
        /// What is wrong, naming the field and the value.
        public var description: String
    }

    /// Reads the JSON of `PREFIX/config`.
    public init(json: Data) throws(Problem) {
        guard let object = try? JSONSerialization.jsonObject(with: json) as? [String: Any] else {
            throw Problem(description: "expected a JSON object like {\"Network\": \"10.244.0.0/16\", \"Backend\": {\"Type\": \"vxlan\"}}")
        }
        guard let text = object["Network"] as? String, let network = IPv4Prefix(text), network.address == network.network else {
            throw Problem(description: "Network: expected a subnet like \"10.244.0.0/16\", got \(object["Network"].map { "\($0)" } ?? "none")")
        }
        self.network = network
        subnetLength = (object["SubnetLen"] as? Int) ?? 24
        guard subnetLength > network.length, subnetLength <= 30 else {
            throw Problem(description: "SubnetLen: expected a length from \(network.length + 1) to 30 inside Network \(network), got \(subnetLength)")
        }
        let step = UInt32(1) << UInt32(32 - subnetLength)
        let first = network.network.rawValue + step
        let last = network.network.rawValue + (UInt32.max >> UInt32(network.length)) - step + 1
        let length = subnetLength
        func bound(_ key: String, default value: UInt32) throws(Problem) -> IPv4Address {
            guard let given = object[key] else { return IPv4Address(rawValue: value) }
            guard let text = given as? String, let address = IPv4Address(text), network.contains(address),
                  address.rawValue % step == 0 else {
                throw Problem(description: "\(key): expected the start of a /\(length) inside \(network), got \(given)")
            }
            return address
        }
        subnetMin = try bound("SubnetMin", default: first)
        subnetMax = try bound("SubnetMax", default: last)
        let backend = object["Backend"] as? [String: Any] ?? [:]
        self.backend = (backend["Type"] as? String) ?? "udp"
        vni = UInt32(exactly: (backend["VNI"] as? Int) ?? 1) ?? 1
        port = UInt16(exactly: (backend["Port"] as? Int) ?? 0) ?? 0
    }

    /// The problems of running `overlay` on this network, each naming both values: the
    /// backend, its VNI and its port must be the network's.
    public func disagreements(with overlay: OverlayConfig) -> [String] {
        var problems: [String] = []
        if backend != overlay.backend.rawValue {
            problems.append("overlay.backend is \(overlay.backend.rawValue) but the network config's Backend.Type is \(backend)")
            return problems
        }
        if overlay.backend == .vxlan, vni != overlay.vni {
            problems.append("overlay.vni is \(overlay.vni) but the network config's Backend.VNI is \(vni)")
        }
        let networkPort = port == 0 ? overlay.backend.defaultPort : port
        if overlay.backend == .vxlan || overlay.backend == .udp, networkPort != overlay.port {
            problems.append("overlay.port is \(overlay.port.map(String.init) ?? "none") but the network config's Backend.Port is \(networkPort.map(String.init) ?? "none")")
        }
        return problems
    }

    /// Every subnet a node may lease, in order.
    public var leasableSubnets: some Sequence<IPv4Prefix> {
        let step = UInt32(1) << UInt32(32 - subnetLength)
        let length = subnetLength
        return stride(from: UInt64(subnetMin.rawValue), through: UInt64(subnetMax.rawValue), by: Int(step))
            .lazy.map { IPv4Prefix(address: IPv4Address(rawValue: UInt32($0)), length: length) }
    }

    /// True when `subnet` is one this network hands out: inside it, of its subnet length.
    public func holds(_ subnet: IPv4Prefix) -> Bool {
        subnet.length == subnetLength && network.contains(subnet.network)
    }
}
