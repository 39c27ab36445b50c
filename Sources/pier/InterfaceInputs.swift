import ArgumentParser
import Dataplane
import PacketIO
import Wire

/// A `--in` of `pier replay`: `PORT=FILE`, or a bare pcapng `FILE` whose interfaces (their
/// `if_name`) name the ports the frames enter.
struct ReplayInput: ExpressibleByArgument, Equatable {
    /// The port, or nil when the capture's interfaces name them.
    var port: String?
    /// The capture file's path.
    var path: String

    init?(argument: String) {
        if let pair = PortFile(argument: argument), !pair.port.contains("/") {
            (port, path) = (pair.port, pair.path)
        } else {
            guard !argument.isEmpty else { return nil }
            (port, path) = (nil, argument)
        }
    }

    static var defaultCompletionKind: CompletionKind { .file() }
}

/// A `--map IFNAME=PORT` of `pier replay`: the capture's interface `IFNAME` is the port `PORT`.
struct InterfaceMap: ExpressibleByArgument, Equatable {
    var interface: String
    var port: String

    init?(argument: String) {
        guard let pair = PortFile(argument: argument) else { return nil }
        (interface, port) = (pair.port, pair.path)
    }
}

/// The inputs of a pcapng capture given without a port: one reader per interface that holds
/// frames, each reading only that interface's frames and skipping those flagged outbound,
/// so that `CaptureMerger` orders the interfaces by timestamp (dumpcap writes them out of
/// time order across interfaces).
struct InterfaceInputs {
    /// Each interface's port and reader.
    var readers: [(port: PortID, reader: PcapReader)] = []
    /// True when no frame carries a direction flag (dumpcap on Linux): `DirectionGuess` decides.
    var needsGuess = false

    /// Opens `path`'s interfaces as `config`'s ports (an interface's `if_name`, or what `maps`
    /// maps it to); an interface that is no port, or is no Ethernet, is an error naming it.
    init(path: String, config: PipelineConfig, maps: [InterfaceMap], topologyPath: String) throws {
        let survey = try PcapReader(path: path)
        guard survey.isPcapNG else {
            throw InputError(message: "--in \(path): a classic pcap has no interfaces to name the ports: give --in PORT=\(path)")
        }
        let (interfaces, frames, anyDirection) = survey.survey()
        needsGuess = !anyDirection
        for interface in interfaces where frames[interface.index] > 0 {
            guard let name = interface.name else {
                throw InputError(message: "\(path): \(interface.displayName) has no if_name, so it names no port: give --in PORT=\(path)")
            }
            let portName = maps.last { $0.interface == name }?.port ?? name
            guard let port = config.port(named: portName) else {
                let known = config.ports.map(\.name).joined(separator: ", ")
                throw InputError(message: "\(path): interface \(name) is no port of \(topologyPath) (ports: \(known)); map it with --map \(name)=PORT")
            }
            guard interface.linkType == .ethernet else {
                throw InputError(message: "\(path): interface \(name) has link type \(interface.linkType): only Ethernet frames can enter a port")
            }
            let reader = try PcapReader(path: path)
            reader.readOnly(interface: interface.index)
            reader.readAsInput()
            readers.append((port, reader))
        }
    }
}

/// Which frames of a capture without direction flags the node sent rather than received, as
/// the node would see it: a frame whose source MAC is one of the node's own (a port's, a
/// bridge's, the VTEP's), or whose source MAC was last seen entering another port (the node
/// forwarded it), left the node. Frames are judged in timestamp order, so a frame's copy on
/// its way in comes before its copies on the way out.
struct DirectionGuess {
    /// The node's own MACs.
    let own: Set<UInt64>
    /// Each source MAC's port when it last entered.
    private var lastSeen: [UInt64: PortID] = [:]
    /// The frames judged outbound.
    private(set) var outbound = 0

    init(config: PipelineConfig) {
        var own = Set(config.interfaces.map(\.mac.rawValue))
        if let overlay = config.overlay { own.insert(overlay.tunnelMAC.rawValue) }
        self.own = own
    }

    /// True when `frame` (marked with the port it was captured on) left the node.
    mutating func isOutbound(_ frame: borrowing Frame) -> Bool {
        guard frame.count >= 12 else { return false }
        let source = frame.withUnsafeBytes { bytes in
            (6..<12).reduce(UInt64(0)) { $0 << 8 | UInt64(bytes[$1]) }
        }
        if own.contains(source) {
            outbound += 1
            return true
        }
        if let port = lastSeen[source], port != frame.inputPort {
            outbound += 1
            return true
        }
        lastSeen[source] = frame.inputPort
        return false
    }
}
