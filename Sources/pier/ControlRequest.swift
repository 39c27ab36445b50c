import Foundation
import Topology

/// One request of the control protocol (DESIGN.md, "Control protocol"): a JSON object on one
/// line, `{"v":1,"op":…}`, answered with one JSON line, `{"ok":true,…}` or
/// `{"ok":false,"error":"…"}`.
struct ControlRequest {
    /// The protocol's version: requests carry it as `v`.
    static let version = 1

    /// What is asked.
    enum Operation {
        /// `{"op":"version"}`.
        case version
        /// `{"op":"table","name":"fdb"}`: a table's lines (`fdb`, `routes`, `neighbors`, `conntrack`, `dump`).
        case table(String)
        /// `{"op":"get","kind":"service","format":"json"}`: the running topology (or one kind).
        case get(ObjectKind?, json: Bool)
        /// `{"op":"apply","yaml":"…","file":"web.yaml"}`: a topology fragment.
        case apply(yaml: String, file: String)
        /// `{"op":"delete","kind":"port","name":"c3"}`.
        case delete(ObjectKind, name: String)
        /// `{"op":"port","name":"c3"}`: whether a port's device is open.
        case port(String)
    }

    /// Why a request cannot be answered.
    struct Failure: Error {
        var problem: String
    }

    /// The operation.
    let operation: Operation

    /// Reads a request line.
    init(json: String) throws(Failure) {
        let object: [String: Any]
        do {
            guard let decoded = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any] else {
                throw Failure(problem: "expected a JSON object, got another JSON value")
            }
            object = decoded
        } catch let failure as Failure {
            throw failure
        } catch {
            throw Failure(problem: "expected a JSON object on one line, got text that is not JSON")
        }
        guard let version = object["v"] as? Int, version == Self.version else {
            throw Failure(problem: "expected \"v\": \(Self.version) (the protocol version this switch speaks), got \(object["v"].map { "\($0)" } ?? "none")")
        }
        func text(_ key: String) throws(Failure) -> String {
            guard let value = object[key] as? String else { throw Failure(problem: "\(key): expected a string") }
            return value
        }
        func kind(_ value: String) throws(Failure) -> ObjectKind {
            guard let kind = ObjectKind(rawValue: value) else {
                throw Failure(problem: "kind: expected one of \(ObjectKind.allCases.map(\.rawValue).joined(separator: ", ")), got \(value)")
            }
            return kind
        }
        switch object["op"] as? String {
        case "version": operation = .version
        case "table": operation = .table(try text("name"))
        case "get":
            var named: ObjectKind?
            if let value = object["kind"] as? String { named = try kind(value) }
            operation = .get(named, json: (object["format"] as? String) == "json")
        case "apply": operation = .apply(yaml: try text("yaml"), file: (object["file"] as? String) ?? "request")
        case "delete": operation = .delete(try kind(try text("kind")), name: try text("name"))
        case "port": operation = .port(try text("name"))
        case let other:
            throw Failure(problem: "op: expected version, table, get, apply, delete or port, got \(other ?? "none")")
        }
    }
}
