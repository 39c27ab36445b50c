import Wire

/// The kinds of objects a change can name: what `pier delete KIND NAME` removes and what
/// `pier get KIND` shows. Each list kind is keyed by one name (see `Topology.deleting`);
/// `conntrack` and `overlay` are settings, one of each.
public enum ObjectKind: String, CaseIterable, Sendable {
    /// A port, by `name`.
    case port
    /// A container, by `name`.
    case container
    /// A bridge, by `name`.
    case bridge
    /// A static neighbor, by `ip`.
    case neighbor
    /// A Service, by `namespace/name` (a bare name is in namespace `default`).
    case service
    /// A published port, by `proto/hostPort` (a bare port number is `tcp`).
    case portmapping
    /// A MASQUERADE rule, by `source` (`172.17.0.0/16`).
    case masquerade
    /// An overlay peer, by `node`.
    case peer
    /// The connection tracker's settings.
    case conntrack
    /// The overlay's settings and its peers.
    case overlay

    /// `name` as the object's key is spelled: `web` is `default/web` for a Service, `8080` is
    /// `tcp/8080` for a port mapping, addresses and subnets in their usual text form.
    func canonicalName(_ name: String) -> String {
        switch self {
        case .service where !name.contains("/"): "default/\(name)"
        case .portmapping where !name.contains("/"): "tcp/\(name)"
        case .neighbor: IPv4Address(name)?.description ?? IPv6Address(name)?.description ?? name
        case .masquerade: IPv4Prefix(name)?.description ?? IPv6Prefix(name)?.description ?? name
        default: name
        }
    }
}

/// One object added, replaced or removed by a change: what the switch logs, one line each.
public struct TopologyChange: Sendable, Equatable, CustomStringConvertible {
    /// What happened to the object.
    public enum Action: String, Sendable {
        /// It is new.
        case added
        /// It existed and is now different.
        case replaced
        /// It is gone.
        case removed
    }

    /// What happened.
    public var action: Action
    /// The object's kind.
    public var kind: ObjectKind
    /// The object's name as `pier delete` takes it (`c3`, `default/web`, `tcp/8080`); empty for
    /// the `conntrack` and `overlay` settings.
    public var name: String

    /// Makes a change.
    public init(_ action: Action, _ kind: ObjectKind, _ name: String = "") {
        self.action = action
        self.kind = kind
        self.name = name
    }

    /// `added port c3`, `replaced service default/web`, `removed peer node-b`, `replaced conntrack`.
    public var description: String {
        name.isEmpty ? "\(action.rawValue) \(kind.rawValue)" : "\(action.rawValue) \(kind.rawValue) \(name)"
    }
}
