import AsyncHTTPClient
import Foundation
import NIOCore
import Synchronization

/// An etcd v3 client over etcd's JSON gateway (`/v3/kv/range`, `/v3/kv/txn`, `/v3/lease/*`,
/// `/v3/watch`), spoken by async-http-client on its own event loops: nothing here runs on the
/// switch's packet loop. Endpoints are tried in turn; the first that answers is kept until it
/// fails.
public final class EtcdGateway: Sendable {
    /// Why a call failed.
    public struct Failure: Error, CustomStringConvertible {
        /// What went wrong, for the log.
        public var description: String
    }

    /// A key's value and revisions.
    public struct Entry: Sendable, Equatable {
        /// The key.
        public var key: String
        /// The value.
        public var value: Data
        /// The revision that last changed it.
        public var modRevision: Int64
        /// The lease it is attached to (0: none).
        public var lease: Int64
    }

    /// One change seen by a watch.
    public enum Event: Sendable, Equatable {
        /// The key was created or changed.
        case put(Entry)
        /// The key was deleted (or its lease expired or was revoked).
        case delete(key: String, revision: Int64)
    }

    /// How a watch ended.
    public enum WatchEnd: Error, Sendable {
        /// The revision asked for was compacted away: list again.
        case compacted(Int64)
        /// The stream ended or failed.
        case broken(String)
    }

    /// One client for the process, never shut down (async-http-client's clients must be shut
    /// down before they are freed; a static one never is): connections to etcd are made within
    /// 500 ms or fail, and redirects are not followed.
    private static let sharedClient: HTTPClient = {
        var configuration = HTTPClient.Configuration()
        configuration.timeout = .init(connect: .milliseconds(500))
        configuration.redirectConfiguration = .disallow
        return HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }()
    private var client: HTTPClient { Self.sharedClient }
    private let endpoints: [String]
    private let current = Mutex(0)
    /// How long a call other than a watch may take.
    let callTimeout: TimeAmount

    /// A client of `endpoints` (`http://HOST:PORT`).
    public init(endpoints: [String], callTimeout: TimeAmount = .seconds(3)) {
        self.endpoints = endpoints
        self.callTimeout = callTimeout
    }

    // MARK: Keys

    /// The keys from `key` up to `rangeEnd` (all with a prefix when `rangeEnd` is its end),
    /// and the store's revision.
    public func range(_ key: String, end rangeEnd: String? = nil) async throws(Failure) -> (entries: [Entry], revision: Int64) {
        let reply: EtcdMessages.RangeResponse = try await call("/v3/kv/range",
            EtcdMessages.RangeRequest(key: .init(key), range_end: rangeEnd.map { .init($0) }))
        return ((reply.kvs ?? []).map(Self.entry), reply.header?.revision?.value ?? 0)
    }

    /// The value of one key, if it exists.
    public func get(_ key: String) async throws(Failure) -> Entry? {
        try await range(key).entries.first
    }

    /// Writes `value` at `key` attached to `lease`, only if the key does not exist
    /// (`create_revision == 0`), or, with `modRevision`, only if it was last changed then.
    /// Returns whether it was written.
    public func put(_ key: String, _ value: Data, lease: Int64, ifModRevision modRevision: Int64 = 0) async throws(Failure) -> Bool {
        let compare = modRevision == 0
            ? EtcdMessages.Compare(key: .init(key), target: "CREATE", create_revision: .init(0))
            : EtcdMessages.Compare(key: .init(key), target: "MOD", mod_revision: .init(modRevision))
        let put = EtcdMessages.PutRequest(key: .init(key), value: .init(value), lease: lease == 0 ? nil : .init(lease))
        let reply: EtcdMessages.TxnResponse = try await call("/v3/kv/txn",
            EtcdMessages.TxnRequest(compare: [compare], success: [.init(request_put: put)]))
        return reply.succeeded ?? false
    }

    // MARK: Leases

    /// A new lease of `ttl` seconds; its ID.
    public func grant(ttl: Int64) async throws(Failure) -> Int64 {
        let reply: EtcdMessages.LeaseGrantResponse = try await call("/v3/lease/grant", EtcdMessages.LeaseGrantRequest(TTL: .init(ttl)))
        guard let id = reply.ID?.value, id != 0 else { throw Failure(description: "lease grant refused: \(reply.error ?? "no ID")") }
        return id
    }

    /// Renews `lease` to its full TTL; returns the TTL left (0 or less: the lease is gone).
    public func keepAlive(_ lease: Int64) async throws(Failure) -> Int64 {
        let reply: EtcdMessages.StreamMessage<EtcdMessages.LeaseGrantResponse> = try await call(
            "/v3/lease/keepalive", EtcdMessages.LeaseIDRequest(ID: .init(lease)), firstObjectOnly: true)
        if let error = reply.error { throw Failure(description: "lease keepalive: \(error.message ?? "error")") }
        return reply.result?.TTL?.value ?? 0
    }

    /// Revokes `lease`: its keys are deleted.
    public func revoke(_ lease: Int64) async throws(Failure) {
        let _: EtcdMessages.LeaseGrantResponse = try await call("/v3/lease/revoke", EtcdMessages.LeaseIDRequest(ID: .init(lease)))
    }

    // MARK: Watch

    /// Watches the keys with `prefix` from `revision` on, handing each reply's events to
    /// `onEvents` (in order, with the reply's revision) until the stream ends: never returns
    /// normally. `onCreated` is called once etcd has set the watch up; a watch etcd has not set
    /// up within `setUpTimeout` (an etcd that took the connection but does not answer, as one
    /// still starting may) is given up, to be tried again.
    public func watch(prefix: String, from revision: Int64, setUpTimeout: Duration = .seconds(5),
                      onCreated: @escaping @Sendable () -> Void = {},
                      onEvents: @escaping @Sendable ([Event], Int64) -> Void) async throws(WatchEnd) -> Never {
        let setUp = SetUpFlag()
        do {
            try await withThrowingTaskGroup(of: Void.self) { group in
                group.addTask {
                    try await self.stream(prefix: prefix, from: revision, onCreated: { setUp.mark(); onCreated() }, onEvents: onEvents)
                }
                group.addTask {
                    try await Task.sleep(for: setUpTimeout)
                    if !setUp.isMarked { throw WatchEnd.broken("watch: not set up by etcd within \(setUpTimeout)") }
                }
                // The stream never ends without an error; the first error ends both.
                while try await group.next() != nil {}
            }
        } catch let end as WatchEnd {
            throw end
        } catch {
            throw .broken("watch: \(Self.describe(error))")
        }
        throw .broken("watch: etcd closed the stream")
    }

    /// Whether a watch was set up, told across its two tasks.
    private final class SetUpFlag: Sendable {
        private let value = Mutex(false)
        var isMarked: Bool { value.withLock { $0 } }
        func mark() { value.withLock { $0 = true } }
    }

    /// The watch itself (`watch`), without the set-up timeout.
    private func stream(prefix: String, from revision: Int64, onCreated: @Sendable () -> Void,
                        onEvents: @Sendable ([Event], Int64) -> Void) async throws(WatchEnd) -> Never {
        let body = EtcdMessages.WatchRequest(create_request: .init(
            key: .init(prefix), range_end: .init(Self.prefixEnd(prefix)), start_revision: .init(revision), progress_notify: true))
        let response: HTTPClientResponse
        do {
            response = try await client.execute(try request("/v3/watch", body), deadline: .distantFuture)
        } catch {
            rotate()
            throw .broken(Self.describe(error))
        }
        guard response.status == .ok else { throw .broken("watch: HTTP \(response.status.code)") }
        var stream = JSONObjectStream()
        let decoder = JSONDecoder()
        do {
            for try await chunk in response.body {
                for object in stream.append(chunk.readableBytesView) {
                    let message = try decoder.decode(EtcdMessages.StreamMessage<EtcdMessages.WatchResponse>.self, from: Data(object))
                    if let error = message.error { throw WatchEnd.broken("watch: \(error.message ?? "error")") }
                    guard let result = message.result else { continue }
                    if let compacted = result.compact_revision?.value, compacted > 0 { throw WatchEnd.compacted(compacted) }
                    if result.canceled == true { throw WatchEnd.broken("watch cancelled: \(result.cancel_reason ?? "no reason")") }
                    if result.created == true { onCreated() }
                    let events = (result.events ?? []).map { event -> Event in
                        let entry = Self.entry(event.kv)
                        return event.type == "DELETE" ? .delete(key: entry.key, revision: entry.modRevision) : .put(entry)
                    }
                    if !events.isEmpty { onEvents(events, result.header?.revision?.value ?? 0) }
                }
                if stream.overflowed { throw WatchEnd.broken("watch: a reply larger than \(JSONObjectStream.limit) bytes") }
            }
        } catch let end as WatchEnd {
            throw end
        } catch {
            throw .broken("watch: \(Self.describe(error))")
        }
        throw .broken("watch: etcd closed the stream")
    }

    /// The end of the range of keys that start with `prefix`: its last byte plus one.
    static func prefixEnd(_ prefix: String) -> Data {
        var bytes = Array(prefix.utf8)
        while let last = bytes.last {
            if last < 0xFF {
                bytes[bytes.count - 1] = last + 1
                return Data(bytes)
            }
            bytes.removeLast()
        }
        return Data([0])
    }

    // MARK: Calls

    private static func entry(_ kv: EtcdMessages.KeyValue) -> Entry {
        Entry(key: kv.key.text, value: kv.value?.data ?? Data(), modRevision: kv.mod_revision?.value ?? 0, lease: kv.lease?.value ?? 0)
    }

    /// POSTs `body` as JSON to `path` on the current endpoint and decodes the reply (only its
    /// first JSON object with `firstObjectOnly`, for a stream such as keepalive's). A failure
    /// moves on to the next endpoint for the next call.
    private func call<Reply: Decodable>(_ path: String, _ body: some Encodable, firstObjectOnly: Bool = false) async throws(Failure) -> Reply {
        do {
            let response = try await client.execute(try request(path, body), timeout: callTimeout)
            var bytes: [UInt8] = []
            if firstObjectOnly {
                var stream = JSONObjectStream()
                for try await chunk in response.body {
                    if let first = stream.append(chunk.readableBytesView).first {
                        bytes = first
                        break
                    }
                }
            } else {
                bytes = Array(try await response.body.collect(upTo: 64 << 20).readableBytesView)
            }
            guard response.status == .ok else {
                throw Failure(description: "\(path): HTTP \(response.status.code) \(String(decoding: bytes.prefix(200), as: UTF8.self))")
            }
            return try JSONDecoder().decode(Reply.self, from: Data(bytes))
        } catch let failure as Failure {
            throw failure
        } catch {
            rotate()
            throw Failure(description: "\(path): \(Self.describe(error))")
        }
    }

    /// The request for `path` on the current endpoint.
    private func request(_ path: String, _ body: some Encodable) throws -> HTTPClientRequest {
        let endpoint = endpoints[current.withLock { $0 } % endpoints.count]
        var request = HTTPClientRequest(url: endpoint + path)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.body = .bytes(ByteBuffer(bytes: try JSONEncoder().encode(body)))
        return request
    }

    /// Moves to the next endpoint.
    private func rotate() {
        current.withLock { $0 += 1 }
    }

    /// An error as one short line.
    private static func describe(_ error: any Error) -> String {
        if let http = error as? HTTPClientError { return "\(http)" }
        if error is DecodingError { return "a reply that is not etcd's JSON" }
        return "\(error)"
    }
}
