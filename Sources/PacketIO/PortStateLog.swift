/// The live switch's log lines about its ports: opened, waiting for a device, taken down, and
/// link changes. A link change is logged once per batch at most (a link that goes down and
/// up within one is not logged), and only while the port is open.
struct PortStateLog {
    /// Where the lines go.
    let log: (LogSeverity, String) -> Void
    /// By pipeline port: whether the last link line said down.
    private var linkDownLogged: [Bool] = []

    /// A log writing to `log`.
    init(_ log: @escaping (LogSeverity, String) -> Void) {
        self.log = log
    }

    /// `port c1: up (eth0 in namespace c1)`, and with offloads what the device does:
    /// `port eth0: offloads checksums, TSO, UDP-tunnel GSO (24-byte header)`.
    func up(_ port: some LivePort) {
        log(.info, "port \(port.name): up (\(port.location))")
        if let mode = port.offloadSummary { log(.info, "port \(port.name): offloads \(mode)") }
    }

    /// `port c1: waiting for eth0 in namespace c1 (No such file or directory)`.
    func waiting(_ port: some LivePort, errno code: Int32) {
        log(.warning, "port \(port.name): waiting for \(port.location) (\(systemMessage(code)))")
    }

    /// `port c1: down (eth0 in namespace c1: namespace deleted)`; the port's link is
    /// forgotten, so it is logged afresh once the port is open again.
    mutating func down(_ port: some LivePort, reason: String) {
        forgetLink(of: port)
        log(.warning, "port \(port.name): down (\(port.location): \(reason))")
    }

    /// Forgets the last link line of `port` (it was closed or removed).
    mutating func forgetLink(of port: some LivePort) {
        let index = Int(port.port.rawValue)
        if index < linkDownLogged.count { linkDownLogged[index] = false }
    }

    /// Logs `port`'s link if it changed since it was last logged and the port is open;
    /// returns true when it went down (the switch then forgets the MACs learned on it).
    mutating func linkChanged(_ port: some LivePort) -> Bool {
        let index = Int(port.port.rawValue)
        if index >= linkDownLogged.count { linkDownLogged += [Bool](repeating: false, count: index + 1 - linkDownLogged.count) }
        guard port.isUp, port.linkDown != linkDownLogged[index] else { return false }
        linkDownLogged[index] = port.linkDown
        if port.linkDown {
            log(.warning, "port \(port.name): link down (\(port.location) is down), its frames dropped as tx-down")
        } else {
            log(.info, "port \(port.name): link up (\(port.location))")
        }
        return port.linkDown
    }
}
