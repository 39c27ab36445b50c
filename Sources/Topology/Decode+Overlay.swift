/// `overlay:`, what flannel sets up on this node.
extension ConfigReader {
    /// The keys of `overlay:`.
    static let overlayKeys = ["backend", "vni", "port", "mtu", "podCIDR", "vtepMAC", "peers", "sourcePorts", "etcd"]

    /// `overlay:`; nil when it could not be read. With `base` (the running overlay, for a
    /// fragment) every key is optional and an absent one keeps the base's value; the peers are
    /// the document's only.
    func overlay(_ value: Located, base: OverlayConfig? = nil) -> OverlayConfig? {
        guard let fields = entries(value, allowed: Self.overlayKeys, expected: "a mapping with backend and podCIDR")
        else { return nil }
        let backendValue = base == nil ? required(fields, "backend", expected: "one of: vxlan, host-gw, ipip, udp") : fields["backend"]
        let backend = backendValue.map { choice($0, of: OverlayConfig.Backend.self) }
        let vni = fields["vni"].map { integer($0, in: 0...16_777_215, what: "a VNI").flatMap { UInt32(exactly: $0) } }
        let port = fields["port"].map { portNumber($0, what: "a UDP port") }
        let mtu = fields["mtu"].map { integer($0, in: 68...65535, what: "an MTU") }
        let etcd = fields["etcd"].map(self.etcd)
        // With etcd, the lease names the pod subnet when the file does not.
        let leased = etcd.map { _ in OverlayConfig.unleasedPodCIDR }
        let podCIDRValue = base == nil && leased == nil
            ? required(fields, "podCIDR", expected: "this node's pod subnet, like 10.244.1.0/24") : fields["podCIDR"]
        let podCIDR = podCIDRValue.map { ipv4Prefix($0, example: "10.244.1.0/24") }
        let vtepMAC = fields["vtepMAC"].flatMap(self.mac)
        let peers = fields["peers"].map { list in
            elements(list, expected: "a list of peers like {node: node-b, ip: 192.168.9.30, podCIDR: 10.244.2.0/24}")
                .compactMap(peer)
        } ?? []
        let sourcePorts = fields["sourcePorts"].map(self.sourcePorts)
        guard let backend = (backend ?? nil) ?? base?.backend, let podCIDR = (podCIDR ?? nil) ?? base?.podCIDR ?? leased,
              vni != .some(nil), port != .some(nil), mtu != .some(nil), sourcePorts != .some(nil), etcd != .some(nil) else { return nil }
        // A backend kept keeps its port; a backend changed takes the new one's default.
        let keptPort = base.flatMap { $0.backend == backend ? $0.port : nil }
        var overlay = OverlayConfig(
            backend: backend, vni: (vni ?? nil) ?? base?.vni ?? OverlayConfig.defaultVNI, port: (port ?? nil) ?? keptPort,
            mtu: (mtu ?? nil) ?? base?.mtu ?? OverlayConfig.defaultMTU, podCIDR: podCIDR, vtepMAC: vtepMAC ?? base?.vtepMAC,
            peers: peers)
        overlay.sourcePorts = (sourcePorts ?? nil) ?? base?.sourcePorts ?? OverlayConfig.defaultSourcePorts
        overlay.etcd = (etcd ?? nil) ?? base?.etcd
        return overlay
    }

    /// `etcd: {endpoints, prefix}`: endpoints `http://HOST:PORT` (or https), at least one; a
    /// prefix that starts with `/` and does not end with one (default `/coreos.com/network`).
    private func etcd(_ value: Located) -> EtcdSettings? {
        let expected = "etcd's endpoints and flannel's prefix, like {endpoints: [http://127.0.0.1:2379], prefix: /coreos.com/network}"
        guard let fields = entries(value, allowed: ["endpoints", "prefix"], expected: expected) else { return nil }
        let endpoints = required(fields, "endpoints", expected: "a list of etcd URLs like [http://127.0.0.1:2379]").map { list in
            elements(list, expected: "a list of etcd URLs like [http://127.0.0.1:2379]").map { item -> String? in
                guard let url = text(item, expected: "an etcd URL like http://127.0.0.1:2379") else { return nil }
                guard url.hasPrefix("http://") || url.hasPrefix("https://"), url.split(separator: "/").count == 2 else {
                    fail(item, "expected an etcd URL like http://127.0.0.1:2379 (scheme, host and port, no path), got \(quoted(url))")
                    return nil
                }
                return url
            }
        }
        var prefix: String? = EtcdSettings.defaultPrefix
        if let written = fields["prefix"] {
            prefix = text(written, expected: "a key prefix like /coreos.com/network")
            if let given = prefix, !given.hasPrefix("/") || given.hasSuffix("/") || given.contains(where: \.isWhitespace) {
                fail(written, "expected a key prefix like /coreos.com/network (a leading /, no trailing / or spaces), got \(quoted(given))")
                prefix = nil
            }
        }
        guard let endpoints, let prefix, !endpoints.contains(where: { $0 == nil }) else { return nil }
        guard !endpoints.isEmpty else {
            fail(value, "expected at least one etcd endpoint, got none")
            return nil
        }
        return EtcdSettings(endpoints: endpoints.compactMap { $0 }, prefix: prefix)
    }

    /// `sourcePorts: {min, max}`: the VXLAN UDP source-port range, min no more than max.
    private func sourcePorts(_ value: Located) -> ClosedRange<UInt16>? {
        let expected = "a port range like {min: 49152, max: 65535}"
        guard let fields = entries(value, allowed: ["min", "max"], expected: expected) else { return nil }
        let low = required(fields, "min", expected: "the lowest source port, like 49152").flatMap { portNumber($0, what: "a UDP port") }
        let high = required(fields, "max", expected: "the highest source port, like 65535").flatMap { portNumber($0, what: "a UDP port") }
        guard let low, let high else { return nil }
        guard low <= high else {
            fail(value, "expected min no more than max, got min \(low) and max \(high)")
            return nil
        }
        return low...high
    }

    /// One peer: `{node, ip, podCIDR, vtepMAC}`.
    private func peer(_ value: Located) -> OverlayPeer? {
        guard let fields = entries(value, allowed: ["node", "ip", "podCIDR", "vtepMAC", "lease"],
                                   expected: "a peer: a mapping with node, ip and podCIDR") else { return nil }
        let node = required(fields, "node", expected: "the peer's node name, like node-b").flatMap { self.identifier($0, what: "a node name") }
        let ip = required(fields, "ip", expected: "the peer's node IP, like 192.168.9.30")
            .flatMap { ipv4($0, what: "an IPv4 address like 192.168.9.30") }
        let podCIDR = required(fields, "podCIDR", expected: "the peer's pod subnet, like 10.244.2.0/24")
            .flatMap { ipv4Prefix($0, example: "10.244.2.0/24") }
        let vtepMAC = fields["vtepMAC"].flatMap(self.mac)
        let lease = fields["lease"].map(self.peerLease)
        guard let node, let ip, let podCIDR, lease != .some(nil) else { return nil }
        return OverlayPeer(node: node, ip: ip, podCIDR: podCIDR, vtepMAC: vtepMAC, lease: lease ?? nil)
    }

    /// A peer's `lease: {id, key}`, as `pier get` writes a peer learned from etcd (hexadecimal
    /// ID, as etcdctl prints it), so that applying what `get` printed changes nothing.
    private func peerLease(_ value: Located) -> PeerLease? {
        let expected = "the etcd lease a peer came from, like {id: 694d8a5c2f1e3b07, key: /coreos.com/network/subnets/10.244.2.0-24}"
        guard let fields = entries(value, allowed: ["id", "key"], expected: expected) else { return nil }
        let id = required(fields, "id", expected: "a lease ID in hexadecimal, like 694d8a5c2f1e3b07").flatMap { item -> Int64? in
            guard let text = text(item, expected: "a lease ID in hexadecimal"), let bits = UInt64(text, radix: 16) else {
                fail(item, "expected a lease ID in hexadecimal, like 694d8a5c2f1e3b07")
                return nil
            }
            return Int64(bitPattern: bits)
        }
        let key = required(fields, "key", expected: "the lease's etcd key").flatMap { text($0, expected: "an etcd key") }
        guard let id, let key else { return nil }
        return PeerLease(lease: id, key: key)
    }
}
