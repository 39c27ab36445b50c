#if canImport(Glibc)
import Glibc
#endif
import NIOCore
import NIOHTTP1
import NIOPosix
import Synchronization

/// `pier switch --metrics ADDRESS:PORT`: serves the Prometheus text exposition format at
/// `/metrics` (404 elsewhere, 405 for a method other than GET and HEAD) from a SwiftNIO HTTP/1.1
/// server on a thread of its own.
///
/// The loop thread hands over a `MetricsSnapshot` with `publish(_:)`, which only stores it under
/// a lock; a scrape brings the registry up to the latest snapshot and renders it
/// (`PierRegistry`, swift-prometheus). `recordApply(ok:seconds:)` may be called from any thread.
///
/// What it does not do: TLS, authentication, compression, OpenMetrics' format.
public final class MetricsServer: Sendable {
    /// Why the server could not start: the address, and the system's message.
    public struct Failure: Error, CustomStringConvertible {
        /// True when the address itself is wrong (a host that does not resolve), false when it
        /// could not be had (in use, not this machine's).
        public var badAddress: Bool
        /// What went wrong (`address already in use`).
        public var reason: String
        /// `HOST:PORT: REASON`.
        public var description: String
    }

    /// The address it listens on.
    public let host: String
    /// The port it listens on (the one the system chose when 0 was asked for).
    public let port: Int
    private let group: MultiThreadedEventLoopGroup
    private let channel: any Channel
    private let exposition: Exposition

    /// Starts listening on `host`:`port` (0: a port the system chooses); throws `Failure` when
    /// the address cannot be bound (in use, not this machine's).
    public init(host: String, port: Int) throws(Failure) {
        let exposition = Exposition()
        let group = Self.threadWithoutSignals()
        let bootstrap = ServerBootstrap(group: group)
            .serverChannelOption(.backlog, value: 64)
            .serverChannelOption(.socketOption(.so_reuseaddr), value: 1)
            .childChannelInitializer { channel in
                channel.eventLoop.makeCompletedFuture {
                    try channel.pipeline.syncOperations.configureHTTPServerPipeline(withErrorHandling: true)
                    try channel.pipeline.syncOperations.addHandler(MetricsHandler(exposition: exposition))
                }
            }
        do {
            channel = try bootstrap.bind(host: host, port: port).wait()
        } catch {
            try? group.syncShutdownGracefully()
            let reason = Self.message(error)
            throw Failure(badAddress: error is SocketAddressError, reason: reason, description: "\(host):\(port): \(reason)")
        }
        self.group = group
        self.exposition = exposition
        self.host = host
        self.port = channel.localAddress?.port ?? port
    }

    /// `http://HOST:PORT/metrics`.
    public var url: String { Self.url(host: host, port: port) }

    /// Makes `snapshot` the one the next scrape shows. Cheap: a lock and an assignment.
    public func publish(_ snapshot: MetricsSnapshot) {
        exposition.pending.withLock { $0 = snapshot }
    }

    /// Counts one change applied (`ok`) or refused, and its latency in seconds.
    public func recordApply(ok: Bool, seconds: Double) {
        exposition.registry.withLock { registry in
            (ok ? registry.applied.ok : registry.applied.error).increment()
            registry.applyDuration.record(max(0, seconds))
        }
    }

    /// The text a scrape of `/metrics` returns now.
    public func render() -> String { exposition.render() }

    /// Stops listening and ends the server's thread.
    public func shutdown() {
        try? channel.close().wait()
        try? group.syncShutdownGracefully()
    }

    /// The server's event loop, on a thread that blocks every signal: a thread inherits its
    /// creator's mask, and one that took SIGINT or SIGTERM would end the process at once, where
    /// the live switch reads them from its signalfd to stop cleanly (captures flushed, counters
    /// printed).
    private static func threadWithoutSignals() -> MultiThreadedEventLoopGroup {
        var all = sigset_t(), previous = sigset_t()
        sigfillset(&all)
        pthread_sigmask(SIG_BLOCK, &all, &previous)
        defer { pthread_sigmask(SIG_SETMASK, &previous, nil) }
        return MultiThreadedEventLoopGroup(numberOfThreads: 1)
    }

    private static func url(host: String, port: Int) -> String {
        "http://\(host.contains(":") ? "[\(host)]" : host):\(port)/metrics"
    }

    /// The system's message for a bind failure (`address already in use`), without NIO's prefix.
    private static func message(_ error: any Error) -> String {
        switch error {
        case let io as IOError: String(cString: strerror(io.errnoCode)).lowercased()
        case is SocketAddressError: "not an address of this machine's (it does not resolve)"
        default: "\(error)"
        }
    }
}

/// The state the loop thread and the server's thread share: the latest snapshot, and the
/// registry it is rendered from.
final class Exposition: Sendable {
    /// The snapshot published since the last scrape, if any.
    let pending = Mutex<MetricsSnapshot?>(nil)
    /// The registry and the counts it was last fed.
    let registry = Mutex(PierRegistry())

    /// Brings the registry up to the latest snapshot and renders it.
    func render() -> String {
        let snapshot = pending.withLock { pending in
            defer { pending = nil }
            return pending
        }
        return registry.withLock { registry in
            if let snapshot { registry.update(snapshot) }
            return registry.registry.emitToString()
        }
    }
}

/// One HTTP connection: answers each request with the metrics, 404 or 405.
final class MetricsHandler: ChannelInboundHandler {
    typealias InboundIn = HTTPServerRequestPart
    typealias OutboundOut = HTTPServerResponsePart

    private let exposition: Exposition
    private var request: HTTPRequestHead?

    init(exposition: Exposition) {
        self.exposition = exposition
    }

    func channelRead(context: ChannelHandlerContext, data: NIOAny) {
        switch Self.unwrapInboundIn(data) {
        case .head(let head): request = head
        case .body: break
        case .end:
            guard let request else { return }
            self.request = nil
            respond(to: request, context: context)
        }
    }

    /// A connection that failed (reset by the scraper) is closed; the server goes on.
    func errorCaught(context: ChannelHandlerContext, error: any Error) {
        context.close(promise: nil)
    }

    private func respond(to request: HTTPRequestHead, context: ChannelHandlerContext) {
        let path = request.uri.split(separator: "?", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        let (status, type, body): (HTTPResponseStatus, String, String) =
            switch (request.method, path) {
            case (.GET, "/metrics"), (.HEAD, "/metrics"): (.ok, "text/plain; version=0.0.4; charset=utf-8", exposition.render())
            case (_, "/metrics"): (.methodNotAllowed, "text/plain; charset=utf-8", "only GET and HEAD\n")
            default: (.notFound, "text/plain; charset=utf-8", "not found: the metrics are at /metrics\n")
            }
        var headers = HTTPHeaders([("Content-Type", type), ("Content-Length", "\(body.utf8.count)")])
        if status == .methodNotAllowed { headers.add(name: "Allow", value: "GET, HEAD") }
        if !request.isKeepAlive { headers.add(name: "Connection", value: "close") }
        context.write(Self.wrapOutboundOut(.head(HTTPResponseHead(version: request.version, status: status, headers: headers))), promise: nil)
        if request.method != .HEAD {
            context.write(Self.wrapOutboundOut(.body(.byteBuffer(context.channel.allocator.buffer(string: body)))), promise: nil)
        }
        let written = context.writeAndFlush(Self.wrapOutboundOut(.end(nil)))
        if !request.isKeepAlive {
            let loopBound = context.loopBound
            written.whenComplete { _ in loopBound.value.close(promise: nil) }
        }
    }
}
