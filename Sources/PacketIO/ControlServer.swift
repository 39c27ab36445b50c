#if canImport(Glibc)
import Glibc
#endif
import CTap

/// The live switch's control socket, as a server the event loop serves between batches: it
/// listens on a Unix socket, watches its listener and each connection in the loop's
/// `EventSet`, and answers a connection once its request is there (one line, a table's name)
/// with the lines `handler` gives, then closes it. A client that is slow to ask stalls
/// nothing. What the requests mean is the handler's business (`pier`'s `ControlSocket`).
///
/// What it does not do yet: more than one request per connection, or replies larger than the
/// socket takes within its one-second send timeout.
public final class ControlServer {
    /// Answers a request (a table name) with the lines to send back.
    public typealias Handler = (String) -> [String]

    /// Where the socket is.
    public let path: String
    private let handler: Handler
    private var listener: Int32 = -1
    private var connections = Set<Int32>()

    /// A server for a socket at `path` answering with `handler`; nothing is opened yet.
    public init(path: String, handler: @escaping Handler) {
        self.path = path
        self.handler = handler
    }

    deinit {
        for descriptor in connections { _ = Glibc.close(descriptor) }
        if listener >= 0 {
            _ = Glibc.close(listener)
            unlink(path)
        }
    }

    /// True for the tokens of the server's descriptors.
    static func owns(_ token: UInt64) -> Bool {
        token == EventToken.control || token >= EventToken.connection
    }

    /// Listens at `path` and watches the listener in `events`.
    func start(in events: EventSet) throws(LiveFailure) {
        let result = pier_unix_listen(path)
        guard result != -EADDRINUSE else { throw LiveFailure(description: "\(path): a switch for this node is already running") }
        listener = try LiveFailure.check(result, "control socket \(path)")
        _ = try LiveFailure.check(events.watch(listener, token: EventToken.control), "epoll_ctl")
    }

    /// Serves the descriptor behind `token` (one it `owns`), which is readable.
    func serve(_ token: UInt64, in events: EventSet) {
        if token == EventToken.control {
            accept(in: events)
        } else {
            answer(Int32(truncatingIfNeeded: token & 0xffff_ffff), in: events)
        }
    }

    /// Takes a connection; it is answered once its request is there.
    private func accept(in events: EventSet) {
        let connection = pier_unix_accept(listener)
        guard connection >= 0 else { return }
        guard events.watch(connection, token: EventToken.connection | UInt64(connection)) == 0 else {
            _ = Glibc.close(connection)
            return
        }
        connections.insert(connection)
    }

    /// Reads a connection's request (a table name) and sends the answer back.
    private func answer(_ connection: Int32, in events: EventSet) {
        events.unwatch(connection)
        connections.remove(connection)
        defer { _ = Glibc.close(connection) }
        var request = [UInt8](repeating: 0, count: 256)
        let count = request.withUnsafeMutableBytes { pier_read(connection, $0.baseAddress, $0.count) }
        guard count > 0 else { return }
        let name = String(decoding: request[0..<count], as: UTF8.self)
            .split(whereSeparator: { $0 == "\n" || $0 == "\r" || $0 == " " }).first.map(String.init) ?? ""
        var reply = handler(name).joined(separator: "\n")
        reply += "\n"
        let bytes = Array(reply.utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { buffer in
                buffer.baseAddress.map { pier_send(connection, $0 + offset, buffer.count - offset) } ?? 0
            }
            guard written > 0 else { return }
            offset += written
        }
    }
}
