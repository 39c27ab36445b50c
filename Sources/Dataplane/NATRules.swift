import Wire

/// The address translation a pipeline applies (`nat:` and `services:` of a topology), in the
/// Dataplane's own terms: ports by `PortID`, protocols by `IPProtocol`.
public struct NATRules: Sendable {
    /// `iptables -t nat -A POSTROUTING -s SOURCE -o OUT -j MASQUERADE`.
    public struct Masquerade: Sendable {
        /// The source subnet the rule matches.
        public var source: IPv4Prefix
        /// The port the traffic must leave by.
        public var out: PortID
        /// Makes a rule.
        public init(source: IPv4Prefix, out: PortID) {
            self.source = source
            self.out = out
        }
    }

    /// A published port (`docker run -p HOSTPORT:TO_PORT`): TCP or UDP to any node address on
    /// `hostPort` goes to `to`:`toPort`.
    public struct PortMapping: Sendable {
        /// TCP or UDP.
        public var proto: IPProtocol
        /// The node's port.
        public var hostPort: UInt16
        /// The container's address.
        public var to: IPv4Address
        /// The container's port.
        public var toPort: UInt16
        /// Makes a published port.
        public init(proto: IPProtocol, hostPort: UInt16, to: IPv4Address, toPort: UInt16) {
            self.proto = proto
            self.hostPort = hostPort
            self.to = to
            self.toPort = toPort
        }
    }

    /// A Service as kube-proxy programs it.
    public struct Service: Sendable {
        /// One forwarded port.
        public struct Port: Sendable {
            /// TCP or UDP.
            public var proto: IPProtocol
            /// The port on the cluster IP.
            public var port: UInt16
            /// The port on the endpoint.
            public var targetPort: UInt16
            /// The port on every node address, if the Service is a NodePort.
            public var nodePort: UInt16?
            /// Makes a Service port.
            public init(proto: IPProtocol, port: UInt16, targetPort: UInt16, nodePort: UInt16? = nil) {
                self.proto = proto
                self.port = port
                self.targetPort = targetPort
                self.nodePort = nodePort
            }
        }

        /// `namespace/name`, for traces.
        public var name: String
        /// The virtual IP.
        public var clusterIP: IPv4Address
        /// The forwarded ports.
        public var ports: [Port]
        /// The endpoints new connections are spread over.
        public var endpoints: [IPv4Address]
        /// Keep each client on one endpoint (Kubernetes' `ClientIP` affinity).
        public var clientIPAffinity: Bool
        /// How long an idle client keeps its endpoint (Kubernetes' default: 10800 s).
        public var affinitySeconds: Int64
        /// What kube-proxy knows of each endpoint (by the index of `endpoints`): its
        /// conditions and whether it runs on this node. An endpoint past the end of this list
        /// is ready, serving and not local.
        public var endpointStates: [EndpointState] = []
        /// The traffic policies and the external addresses (external IPs, load-balancer
        /// ingress IPs) the Service answers on besides its cluster IP and node ports.
        public var traffic = TrafficPolicy()
        /// The IPv6 cluster IP of a dual-stack Service, if any.
        public var clusterIP6: IPv6Address?
        /// The IPv6 endpoints new IPv6 connections are spread over.
        public var endpoints6: [IPv6Address] = []
        /// Makes a Service.
        public init(name: String, clusterIP: IPv4Address, ports: [Port], endpoints: [IPv4Address],
                    clientIPAffinity: Bool = false, affinitySeconds: Int64 = 10_800) {
            self.name = name
            self.clusterIP = clusterIP
            self.ports = ports
            self.endpoints = endpoints
            self.clientIPAffinity = clientIPAffinity
            self.affinitySeconds = affinitySeconds
        }
    }

    /// MASQUERADE rules, first match wins.
    public var masquerade: [Masquerade]
    /// Published ports.
    public var portMappings: [PortMapping]
    /// IPv6 MASQUERADE rules (`ip6tables … -j MASQUERADE`), first match wins.
    public var masquerade6: [Masquerade6] = []
    /// IPv6 published ports: on the node's IPv6 addresses, to an IPv6 container.
    public var portMappings6: [PortMapping6] = []
    /// Services.
    public var services: [Service]
    /// This node's pod subnets: a Service's external address reached from a source in one
    /// of them takes the cluster-wide endpoints (kube-proxy's "pod traffic for external
    /// destinations", `--detect-local-mode NodeCIDR`).
    public var podCIDRs: [IPv4Prefix] = []
    /// The source ports (and ICMP identifiers) MASQUERADE may choose from when the original
    /// one is taken; Linux uses 1024–65535 for a source port at or above 1024.
    public var portRange: ClosedRange<UInt16>

    /// Makes rules; none by default.
    public init(masquerade: [Masquerade] = [], portMappings: [PortMapping] = [], services: [Service] = [],
                portRange: ClosedRange<UInt16> = 1_024...65_535) {
        self.masquerade = masquerade
        self.portMappings = portMappings
        self.services = services
        self.portRange = portRange
    }
}

/// The connection tracker's size and timeouts, in the Dataplane's terms.
public struct ConntrackSettings: Sendable {
    /// The most connections tracked at once.
    public var capacity: Int
    /// Seconds a TCP connection lives in each state without traffic, by `TCPState.rawValue`.
    public var tcpTimeouts: [Int64]
    /// Seconds a UDP flow seen in one direction only lives (`nf_conntrack_udp_timeout`).
    public var udpTimeout: Int64
    /// Seconds a UDP flow seen in both directions lives (`nf_conntrack_udp_timeout_stream`).
    public var udpStreamTimeout: Int64
    /// Seconds an ICMP echo lives (`nf_conntrack_icmp_timeout`).
    public var icmpTimeout: Int64
    /// Drop packets that belong to no connection and cannot open one (`conntrack-invalid`);
    /// when false they pass untranslated, counted as `conntrack-invalid-accepted`.
    public var dropInvalid = true

    /// The default capacity: 262144 connections.
    public static let defaultCapacity = 262_144
    /// netfilter's default UDP, UDP stream and ICMP timeouts in seconds (since Linux 5.0).
    public static let linuxUDPTimeout: Int64 = 30, linuxUDPStreamTimeout: Int64 = 120, linuxICMPTimeout: Int64 = 30

    /// Makes settings; Linux's defaults (262144 entries; netfilter's timeouts since 5.0).
    public init(capacity: Int = defaultCapacity, tcpTimeouts: [Int64] = TCPState.linuxTimeouts,
                udpTimeout: Int64 = linuxUDPTimeout, udpStreamTimeout: Int64 = linuxUDPStreamTimeout,
                icmpTimeout: Int64 = linuxICMPTimeout) {
        self.capacity = capacity
        self.tcpTimeouts = tcpTimeouts
        self.udpTimeout = udpTimeout
        self.udpStreamTimeout = udpStreamTimeout
        self.icmpTimeout = icmpTimeout
    }
}
