#if canImport(Glibc)
import Glibc
#endif
import CTap

/// What answers the control socket's requests (`pier`'s switch control: tables, `apply`,
/// `get`, `delete`).
public protocol ControlHandler: AnyObject {
    /// Answers one request line (without its newline). `reply` takes the answer and whether
    /// the connection ends after it; it is called exactly once, on the loop thread, now or
    /// later (a change is built on another thread). Requests of one connection are answered
    /// in order: the next waits for this one's reply.
    func handle(_ request: String, reply: @escaping (_ answer: String, _ close: Bool) -> Void)
    /// The answer line to a request the server refuses itself (too long, cut off), saying why.
    func refusal(_ problem: String) -> String
}

/// The live switch's control socket, as a server the event loop serves between batches: it
/// listens on a Unix socket (mode 0600, or 0660 for `group`), watches the listener and every
/// connection in the loop's `EventSet`, and reads what each connection sends as it arrives
/// (never waiting for a slow client). Requests are lines: each complete line goes to the
/// handler, in order per connection, several connections at once. A request longer than
/// `maximumRequestBytes`, or cut off by the end of the stream before its newline, gets the
/// handler's `refusal` line and the connection is closed; nothing else happens.
public final class ControlServer {
    /// The longest request line: 16 MiB.
    public static let maximumRequestBytes = 16 << 20

    /// One client.
    private final class Connection {
        let descriptor: Int32
        var buffer: [UInt8] = []
        /// How much of `buffer` is known to hold no newline (each byte is looked at once).
        var scanned = 0
        /// A request is with the handler.
        var busy = false
        /// The client sent its last byte (or the connection broke).
        var ended = false
        /// Refused: what still comes is read and thrown away until the client closes (closing
        /// with unread bytes would reset the connection and lose the error line), at most
        /// `maximumRequestBytes` more.
        var discarded: Int?
        init(descriptor: Int32) { self.descriptor = descriptor }
    }

    /// Where the socket is.
    public let path: String
    private let handler: any ControlHandler
    private let group: gid_t?
    private var listener: Int32 = -1
    private var connections: [Int32: Connection] = [:]
    private var events: EventSet?

    /// A server for a socket at `path` answering through `handler`, readable and writable by
    /// `group` too when given; nothing is opened yet.
    public init(path: String, group: gid_t? = nil, handler: any ControlHandler) {
        self.path = path
        self.group = group
        self.handler = handler
    }

    deinit {
        for descriptor in connections.keys { _ = Glibc.close(descriptor) }
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
        if let group {
            guard chown(path, 0, group) == 0, chmod(path, 0o660) == 0 else {
                throw LiveFailure(description: "\(path): cannot give the socket to group \(group): \(systemMessage(errno))")
            }
        } else {
            _ = chmod(path, 0o600)
        }
        self.events = events
        _ = try LiveFailure.check(events.watch(listener, token: EventToken.control), "epoll_ctl")
    }

    /// Serves the descriptor behind `token` (one it `owns`), which is readable.
    func serve(_ token: UInt64) {
        if token == EventToken.control {
            accept()
        } else if let connection = connections[Int32(truncatingIfNeeded: token & 0xffff_ffff)] {
            read(connection)
        }
    }

    /// Takes every waiting connection.
    private func accept() {
        while true {
            let descriptor = pier_unix_accept(listener)
            guard descriptor >= 0 else { return }
            guard events?.watch(descriptor, token: EventToken.connection | UInt64(descriptor)) == 0 else {
                _ = Glibc.close(descriptor)
                continue
            }
            connections[descriptor] = Connection(descriptor: descriptor)
        }
    }

    /// Reads what the connection sent (up to 64 KiB at a time: a big request is read over
    /// several turns of the loop, between batches) and answers the requests it completes.
    private func read(_ connection: Connection) {
        var chunk = [UInt8](repeating: 0, count: 65_536)
        let count = chunk.withUnsafeMutableBytes { pier_read(connection.descriptor, $0.baseAddress, $0.count) }
        if count > 0, let discarded = connection.discarded {
            connection.discarded = discarded + count
            if discarded + count > Self.maximumRequestBytes { close(connection) }
            return
        } else if count > 0 {
            connection.buffer.append(contentsOf: chunk[0..<count])
        } else if count != -Int(EAGAIN) && count != -Int(EINTR) {
            connection.ended = true
            events?.unwatch(connection.descriptor)
        }
        if connection.discarded != nil {
            if connection.ended { close(connection) }
            return
        }
        next(connection)
    }

    /// Hands the connection's next complete request to the handler, unless one is there
    /// already; refuses an oversized or cut-off one; closes a finished connection.
    private func next(_ connection: Connection) {
        guard !connection.busy, connections[connection.descriptor] != nil else { return }
        guard let newline = connection.buffer[connection.scanned...].firstIndex(of: UInt8(ascii: "\n")) else {
            connection.scanned = connection.buffer.count
            if connection.buffer.count > Self.maximumRequestBytes {
                return refuse(connection, "request longer than \(Self.maximumRequestBytes) bytes without a newline")
            }
            if connection.ended {
                if connection.buffer.isEmpty { return close(connection) }
                return refuse(connection, "request cut off: the stream ended \(connection.buffer.count) bytes into it, before its newline")
            }
            return
        }
        let line = String(decoding: connection.buffer[..<newline], as: UTF8.self)
        connection.buffer.removeSubrange(...newline)
        connection.scanned = 0
        connection.busy = true
        handler.handle(line.hasSuffix("\r") ? String(line.dropLast()) : line) { [weak self, connection] answer, close in
            guard let self else { return }
            connection.busy = false
            let sent = self.send(answer + "\n", to: connection)
            if close || !sent { self.close(connection) } else { self.next(connection) }
        }
    }

    /// Answers with an error line and ends the connection: at once if the client is done
    /// sending, else once it is (what it still sends is thrown away).
    private func refuse(_ connection: Connection, _ problem: String) {
        _ = send(handler.refusal(problem) + "\n", to: connection)
        connection.buffer = []
        guard !connection.ended else { return close(connection) }
        _ = shutdown(connection.descriptor, Int32(SHUT_WR))
        connection.discarded = 0
    }

    /// Writes `text` whole (the socket's one-second send timeout bounds a client that does
    /// not read); false when it could not.
    private func send(_ text: String, to connection: Connection) -> Bool {
        guard connections[connection.descriptor] != nil else { return false }
        let bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { buffer in
                buffer.baseAddress.map { pier_send(connection.descriptor, $0 + offset, buffer.count - offset) } ?? 0
            }
            guard written > 0 else { return false }
            offset += written
        }
        return true
    }

    private func close(_ connection: Connection) {
        guard connections.removeValue(forKey: connection.descriptor) != nil else { return }
        if !connection.ended { events?.unwatch(connection.descriptor) }
        _ = Glibc.close(connection.descriptor)
    }
}
