import Wire

/// The node the bridge, local and route tests run on, as a topology document: the uplink
/// eth0 (192.168.1.25/24, fd00:1::19/64, MAC 02:00:c0:a8:01:19, the gateway 192.168.1.1 at
/// 02:00:c0:a8:01:01 known statically), and docker0 (172.17.0.1/16, fd00:17::1/64, MAC
/// 02:42:ac:11:00:01) with three ports c1, c2, c3 whose stations are 02:42:ac:11:00:0N for
/// 172.17.0.N.
enum StageTopology {
    static let nodeMAC = MACAddress(0x02, 0, 0xC0, 0xA8, 1, 0x19)
    static let gatewayMAC = MACAddress(0x02, 0, 0xC0, 0xA8, 1, 0x01)
    static let bridgeMAC = MACAddress(0x02, 0x42, 0xAC, 0x11, 0, 0x01)
    static let node = IPv4Address(192, 168, 1, 25)
    static let bridgeIP = IPv4Address(172, 17, 0, 1)
    static let bridgeIP6 = IPv6Address("fd00:17::1")!

    /// The station 02:42:ac:11:00:0`n`.
    static func mac(_ n: UInt8) -> MACAddress { MACAddress(0x02, 0x42, 0xAC, 0x11, 0, n) }
    /// The container address 172.17.0.`n`.
    static func ip(_ n: UInt8) -> IPv4Address { IPv4Address(172, 17, 0, n) }

    /// The document, with docker0's FDB settings and hairpin as given; `gateway: false`
    /// leaves eth0 without a default route.
    static func yaml(hairpin: Bool = false, capacity: Int = 4_096, ageing: Int = 300, fdbStatic: String = "",
                     gateway: Bool = true) -> String {
        """
        node: stage-test
        ports:
          - name: eth0
            mac: 02:00:c0:a8:01:19
            ip: [192.168.1.25/24, "fd00:1::19/64"]
        \(gateway ? "    gateway: 192.168.1.1" : "")
          - name: c1
          - name: c2
          - name: c3
        neighbors:
          - {ip: 192.168.1.1, mac: 02:00:c0:a8:01:01}
        bridges:
          - name: docker0
            ports: [c1, c2, c3]
            ip: [172.17.0.1/16, "fd00:17::1/64"]
            mac: 02:42:ac:11:00:01
            hairpin: \(hairpin)
            fdb: {capacity: \(capacity), ageing: \(ageing)}
        \(fdbStatic.isEmpty ? "" : "    fdbStatic: [\(fdbStatic)]")
        """
    }
}
