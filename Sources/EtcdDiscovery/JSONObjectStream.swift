/// Splits a stream of bytes into the JSON objects it holds, one after another: how etcd's gateway
/// sends a watch (`{"result":…}` objects, however the chunks fall). Tracks nesting and strings
/// only; each object found is then decoded by `JSONDecoder`.
struct JSONObjectStream {
    private var pending: [UInt8] = []
    private var depth = 0
    private var inString = false
    private var escaped = false
    private var scanned = 0
    private var start: Int?

    /// The largest object kept before giving up (a watch reply of 1,000 leases is ~250 KB).
    static let limit = 64 << 20

    /// Appends `bytes`; returns the objects they complete.
    mutating func append(_ bytes: some Sequence<UInt8>) -> [[UInt8]] {
        pending.append(contentsOf: bytes)
        var objects: [[UInt8]] = []
        var consumed = 0
        while scanned < pending.count {
            let byte = pending[scanned]
            defer { scanned += 1 }
            if inString {
                if escaped { escaped = false } else if byte == UInt8(ascii: "\\") { escaped = true } else if byte == UInt8(ascii: "\"") { inString = false }
                continue
            }
            switch byte {
            case UInt8(ascii: "\""): inString = depth > 0
            case UInt8(ascii: "{"):
                if depth == 0 { start = scanned }
                depth += 1
            case UInt8(ascii: "}") where depth > 0:
                depth -= 1
                if depth == 0, let begin = start {
                    objects.append(Array(pending[begin...scanned]))
                    start = nil
                    consumed = scanned + 1
                }
            default: break
            }
        }
        if depth == 0 { consumed = pending.count }
        if consumed > 0 {
            pending.removeFirst(consumed)
            scanned -= consumed
            if let begin = start { start = begin - consumed }
        }
        return objects
    }

    /// True when more than `limit` bytes wait for an object's end.
    var overflowed: Bool { pending.count > Self.limit }
}
