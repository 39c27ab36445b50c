import Foundation

/// The JSON of etcd's v3 gateway (etcd's `rpc.proto` and `kv.proto` through grpc-gateway):
/// keys and values are base64, 64-bit integers are strings, and fields holding their type's
/// zero value are left out (a watch event without `type` is a PUT, a reply without
/// `succeeded` a transaction that failed).
enum EtcdMessages {
    /// A 64-bit integer written as a JSON string (as grpc-gateway writes them) or a number.
    struct Int64Text: Codable, Sendable, Equatable {
        /// The value.
        var value: Int64

        /// Wraps a value.
        init(_ value: Int64) { self.value = value }

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            if let number = try? container.decode(Int64.self) {
                value = number
            } else if let text = try? container.decode(String.self), let number = Int64(text) {
                value = number
            } else {
                throw DecodingError.dataCorruptedError(in: container, debugDescription: "expected a 64-bit integer")
            }
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            try container.encode(String(value))
        }
    }

    /// Bytes written as base64 (a key or a value).
    struct Bytes: Codable, Sendable, Equatable {
        /// The bytes.
        var data: Data

        /// Wraps bytes.
        init(_ data: Data) { self.data = data }
        /// A string's UTF-8 bytes.
        init(_ text: String) { data = Data(text.utf8) }

        /// The bytes as UTF-8 text.
        var text: String { String(decoding: data, as: UTF8.self) }

        init(from decoder: any Decoder) throws {
            let container = try decoder.singleValueContainer()
            guard let data = Data(base64Encoded: try container.decode(String.self)) else {
                throw DecodingError.dataCorruptedError(in: container, debugDescription: "expected base64")
            }
            self.data = data
        }

        func encode(to encoder: any Encoder) throws {
            var container = encoder.singleValueContainer()
            try container.encode(data.base64EncodedString())
        }
    }

    /// Every reply's header: the store's revision when it was answered.
    struct Header: Decodable, Sendable {
        var revision: Int64Text?
    }

    /// A key and its value (`mvccpb.KeyValue`).
    struct KeyValue: Decodable, Sendable {
        var key: Bytes
        var value: Bytes?
        var create_revision: Int64Text?
        var mod_revision: Int64Text?
        var version: Int64Text?
        var lease: Int64Text?
    }

    /// `POST /v3/kv/range`.
    struct RangeRequest: Encodable {
        var key: Bytes
        var range_end: Bytes?
    }

    /// Its reply.
    struct RangeResponse: Decodable {
        var header: Header?
        var kvs: [KeyValue]?
    }

    /// A put inside a transaction.
    struct PutRequest: Encodable {
        var key: Bytes
        var value: Bytes
        var lease: Int64Text?
    }

    /// One comparison of a transaction: `target` is `CREATE` (create_revision) or `MOD`.
    struct Compare: Encodable {
        var key: Bytes
        var target: String
        var result: String = "EQUAL"
        var create_revision: Int64Text?
        var mod_revision: Int64Text?
    }

    /// One operation of a transaction.
    struct RequestOp: Encodable {
        var request_put: PutRequest
    }

    /// `POST /v3/kv/txn`.
    struct TxnRequest: Encodable {
        var compare: [Compare]
        var success: [RequestOp]
    }

    /// Its reply.
    struct TxnResponse: Decodable {
        var header: Header?
        var succeeded: Bool?
    }

    /// `POST /v3/lease/grant`.
    struct LeaseGrantRequest: Encodable {
        var TTL: Int64Text
    }

    /// Its reply (and keepalive's result).
    struct LeaseGrantResponse: Decodable {
        var ID: Int64Text?
        var TTL: Int64Text?
        var error: String?
    }

    /// `POST /v3/lease/keepalive` and `/v3/lease/revoke`.
    struct LeaseIDRequest: Encodable {
        var ID: Int64Text
    }

    /// One message of a stream: `{"result": …}` or `{"error": …}`.
    struct StreamMessage<Result: Decodable>: Decodable {
        var result: Result?
        var error: StreamError?
    }

    /// A stream's error.
    struct StreamError: Decodable {
        var message: String?
        var http_code: Int?
    }

    /// `POST /v3/watch`: `{"create_request": …}`.
    struct WatchRequest: Encodable {
        struct Create: Encodable {
            var key: Bytes
            var range_end: Bytes
            var start_revision: Int64Text
            var progress_notify: Bool
        }
        var create_request: Create
    }

    /// One watch reply: events, or that the watch was cancelled (compacted away).
    struct WatchResponse: Decodable {
        var header: Header?
        var created: Bool?
        var canceled: Bool?
        var compact_revision: Int64Text?
        var cancel_reason: String?
        var events: [Event]?
    }

    /// A watch event: a put or a delete of one key.
    struct Event: Decodable {
        /// `PUT` (left out) or `DELETE`.
        var type: String?
        var kv: KeyValue
    }
}
