import Inspect

/// The JSON lines of the control protocol (DESIGN.md, "Control protocol"), written with
/// `JSONValue` as `inspect --json` writes its objects.
enum ControlJSON {
    /// `{"ok":true,…members}`.
    static func ok(_ members: [(String, JSONValue)] = []) -> String {
        JSONValue.object([("ok", .bool(true))] + members).serialized
    }

    /// `{"ok":false,"error":"PROBLEM"}`.
    static func error(_ problem: String) -> String {
        JSONValue.object([("ok", .bool(false)), ("error", .string(problem))]).serialized
    }

    /// `{"v":1,"op":OP,…members}`: a request.
    static func request(_ operation: String, _ members: [(String, JSONValue)] = []) -> String {
        JSONValue.object([("v", .integer(Int64(ControlRequest.version))), ("op", .string(operation))] + members).serialized
    }

    /// `["a","b"]`.
    static func strings(_ items: [String]) -> JSONValue { .array(items.map(JSONValue.string)) }
}
