import Wire

/// The NAT decision for a packet that opens a connection, as netfilter's nat table takes it
/// for the first packet: PREROUTING's DNAT from the published ports and Services
/// (`DNATTable`), the egress interface from the routing table, then POSTROUTING's MASQUERADE
/// (a rule's source subnet and output interface, an external address as kube-proxy marks
/// it, or hairpin). Hairpin on a bridge is a pod reaching itself through its Service or
/// published port (kube-proxy's `-s ENDPOINT -j KUBE-MARK-MASQ`, Docker's
/// `-s IP -d IP -j MASQUERADE`); a pod reaching another pod on its own bridge keeps its
/// address, and the connection is marked `bridged`: the reply is switched, not routed, and
/// the conntrack stage looks it up on the bridge (Linux's br_netfilter). On a routed
/// interface, any translated connection that leaves by the interface it came in on is
/// masqueraded, so that its reply comes back through Pier.
struct NATPolicy {
    /// What becomes of a new connection.
    enum Decision {
        /// Not tracked: for one of the node's own addresses (the local stage's), or
        /// unroutable (the route stage answers it).
        case untracked
        /// For a Service port with no endpoints (DNAT rule `rule`): rejected.
        case reject(rule: Int)
        /// For a Service port whose `Local` policy leaves no endpoint here: dropped.
        case dropNoLocal(rule: Int)
        /// Tracked toward `destination`:`port` (after DNAT by `rule`, or -1), leaving by
        /// `egress`, with its source masqueraded or not; `bridged` when translated between two
        /// stations of one bridge without masquerade (the reply will be switched).
        case track(destination: IPv4Address, port: UInt16, egress: InterfaceIndex, masquerade: Bool, rule: Int, bridged: Bool)
    }

    /// Published ports and Services.
    let dnat: DNATTable
    /// MASQUERADE rules with their output port's interface.
    private let masquerade: [(source: IPv4Prefix, interface: InterfaceIndex)]
    /// Where destinations leave.
    private let routes: RoutingTable
    /// The node's IPv4 addresses.
    private let nodeAddresses: [IPv4Address]
    /// Per interface: true for a bridge's.
    private let bridgeInterfaces: [Bool]

    /// The policy of `config`'s NAT rules, routed by `routes`.
    init(config: PipelineConfig, routes: RoutingTable, nodeAddresses: [IPv4Address], dnat: DNATTable? = nil) {
        self.dnat = dnat ?? DNATTable(rules: config.nat, nodeAddresses: nodeAddresses)
        masquerade = config.nat.masquerade.compactMap { rule in
            config.ports[Int(rule.out.rawValue)].interface.map { (rule.source, $0) }
        }
        self.routes = routes
        self.nodeAddresses = nodeAddresses
        bridgeInterfaces = config.interfaces.map { interface in
            if case .bridge = interface.attachment { true } else { false }
        }
    }

    /// The interface `destination` leaves by, if it is routable.
    @inline(__always)
    func egress(of destination: IPv4Address) -> InterfaceIndex? { routes.egress(of: destination) }

    /// True for a bridge's interface.
    @inline(__always)
    func isBridge(_ interface: InterfaceIndex) -> Bool { bridgeInterfaces[interface] }

    /// True for one of the node's own addresses.
    @inline(__always)
    func isNodeAddress(_ address: IPv4Address) -> Bool { nodeAddresses.contains(address) }

    /// The decision for a connection `key` that came in on `ingress` (ClientIP affinity
    /// remembers its choice at `now`).
    func decide(_ key: FlowKey, ingress: InterfaceIndex, now: Int64) -> Decision {
        var destination = key.destination, destinationPort = key.destinationPort
        var masquerade = false
        var rule = -1
        if key.protocol != .icmp {
            switch dnat.decide(destination: key.destination, port: key.destinationPort, proto: key.protocol, client: key.source, now: now) {
            case .none:
                break
            case .noEndpoints(let index):
                return .reject(rule: index)
            case .noLocalEndpoints(let index):
                return .dropNoLocal(rule: index)
            case .translate(let address, let port, let mark, let index):
                (destination, destinationPort, masquerade, rule) = (address, port, mark, index)
            }
        }
        guard !isNodeAddress(destination), let egress = routes.egress(of: destination) else { return .untracked }
        var bridged = false
        if rule >= 0 && egress == ingress {  // hairpin
            if !bridgeInterfaces[Int(egress)] || destination == key.source {
                masquerade = true
            } else {
                bridged = !masquerade
            }
        }
        if !masquerade {
            masquerade = self.masquerade.contains { $0.interface == egress && $0.source.contains(key.source) }
        }
        return .track(destination: destination, port: destinationPort, egress: egress, masquerade: masquerade, rule: rule,
                      bridged: bridged && !masquerade)
    }
}

/// Source ports (ICMP: identifiers) for masqueraded connections: the original one when its
/// reply key is free, else the first free one in the range after a point drawn from the key
/// (netfilter's `nf_nat_l4proto_unique_tuple` starts at a hash of the tuple too).
struct NATPortAllocator {
    /// The ports MASQUERADE may pick.
    let range: ClosedRange<UInt16>

    /// The reply key of a connection from `source`:`sourcePort` (ICMP: the identifier) to
    /// `destination`:`destinationPort` after translation: the packets coming back.
    static func replyKey(_ proto: IPProtocol, from destination: IPv4Address, port destinationPort: UInt16,
                         to source: IPv4Address, port sourcePort: UInt16) -> FlowKey {
        FlowKey(source: destination, destination: source, sourcePort: proto == .icmp ? sourcePort : destinationPort,
                destinationPort: sourcePort, protocol: proto)
    }

    /// A port on `source` toward `destination`:`destinationPort` whose reply key no
    /// connection in `table` holds, for the connection `key`; nil when the range is used up.
    func uniquePort(in table: ConntrackTable, source: IPv4Address, destination: IPv4Address, destinationPort: UInt16,
                    key: FlowKey) -> UInt16? {
        firstFreePort(in: table, key: key) { port in
            Self.replyKey(key.protocol, from: destination, port: destinationPort, to: source, port: port)
        }
    }

    /// The original source port of `key` when the reply key `replyKey` makes of it is free in
    /// `table`, else the first free one in the range after a point drawn from the key; nil
    /// when the range is used up. (Either family: `replyKey` makes the keys.)
    @inline(__always)
    func firstFreePort(in table: ConntrackTable, key: FlowKey, replyKey: (UInt16) -> FlowKey) -> UInt16? {
        if !table.contains(replyKey(key.sourcePort)) { return key.sourcePort }
        let lower = Int(range.lowerBound), count = Int(range.upperBound) - lower + 1
        let start = Int(key.hash(seed: 0x4E41_5450_4F52_5453) % UInt64(count))
        for step in 0..<count {
            let port = UInt16(lower + (start + step) % count)
            if !table.contains(replyKey(port)) { return port }
        }
        return nil
    }
}
