import Yams

/// A YAML node with the key path and the line it was found at.
struct Located {
    /// The node.
    let node: Node
    /// The key path, like `ports[1].ip`.
    let path: String
    /// The line from 1: the node's own line for a scalar, its key's line for a collection or
    /// an empty value (so `ports:` errors point at `ports:`).
    let line: Int
}

/// Walks a composed YAML tree into the model: it records an error for each problem it finds
/// (and carries on, so that one pass finds them all) and where each value came from.
final class ConfigReader {
    /// The file name errors carry.
    let file: String
    /// The problems found so far, in the order found.
    private(set) var errors: [ConfigError] = []
    /// Where each value came from, for the checks that run after reading.
    private(set) var source = SourceMap()

    /// Makes a reader for errors in `file`.
    init(file: String) {
        self.file = file
    }

    /// Records a problem at a value.
    func fail(_ value: Located, _ problem: String) {
        fail(line: value.line, path: value.path, problem)
    }

    /// Records a problem at a line and key path.
    func fail(line: Int, path: String, _ problem: String) {
        errors.append(ConfigError(file: file, line: line, path: path, problem: problem))
    }

    /// Records where a value came from and returns it located.
    func located(_ node: Node, path: String, line: Int) -> Located {
        source.lines[path] = line
        return Located(node: node, path: path, line: line)
    }

    /// Records that the logical path `alias` (like `ports[0].ip.v4[1]`) was written at `path`.
    func alias(_ alias: String, to value: Located) {
        source.aliases[alias] = value.path
    }
}

/// Where the values of a topology file were written: the line of each key path, and the
/// written path of values whose place in the model differs from their place in the file.
///
/// A topology merged from a running one and a written document (a fragment that `pier apply`
/// sends, a file that SIGHUP re-reads) also knows, for each list, which elements came from
/// the document (their lines are the document's) and which from the running topology (they
/// have no line and read as `services[3] (running)`, at their index in the running one).
struct SourceMap {
    /// Where one element of a merged list came from.
    enum Origin: Equatable {
        /// The document's element at this index.
        case written(Int)
        /// The running topology's element at this index.
        case running(Int)
    }

    /// The line of each key path read.
    var lines: [String: Int] = [:]
    /// Logical paths (`ports[0].ip.v4[1]`, `ports[0].gateway.v6`) to written ones (`ports[0].ip[3]`).
    var aliases: [String: String] = [:]
    /// For a merged topology, the origin of each element of each list the merge touched, by
    /// the list's path (`ports`, `nat.masquerade`, `overlay.peers`).
    var origins: [String: [Origin]] = [:]
    /// True for a merged topology: a value the document did not write is the running one's.
    var isMerged = false

    /// The written key path and line of `path`, which may be logical; a path that was never
    /// read takes the line of its nearest ancestor that was. In a merged topology, a value from
    /// the running topology has line 0 and a path ending in ` (running)`.
    func place(_ path: String) -> (path: String, line: Int) {
        var path = path
        var isWrittenElement = false
        if isMerged, let (list, index, rest) = Self.listElement(path) {
            // A list the merge did not touch is the running topology's, index for index.
            let origin = origins[list].flatMap { $0.indices.contains(index) ? $0[index] : nil } ?? .running(index)
            switch origin {
            case .written(let written): path = "\(list)[\(written)]\(rest)"
            case .running(let running): return ("\(list)[\(running)]\(rest) (running)", 0)
            }
            isWrittenElement = true
        }
        let written = aliases[path] ?? path
        var probe = Substring(written)
        while !probe.isEmpty {
            if let line = lines[String(probe)] { return (written, line) }
            guard let cut = probe.lastIndex(where: { $0 == "." || $0 == "[" }) else { break }
            probe = probe[..<cut]
        }
        if isMerged, !isWrittenElement { return ("\(path) (running)", 0) }
        return (written, lines[""] ?? 0)
    }

    /// `nat.masquerade[3].out` as (`nat.masquerade`, 3, `.out`); nil for a path in no list.
    private static func listElement(_ path: String) -> (list: String, index: Int, rest: Substring)? {
        guard let open = path.firstIndex(of: "["), let close = path[open...].firstIndex(of: "]"),
              let index = Int(path[path.index(after: open)..<close]) else { return nil }
        return (String(path[..<open]), index, path[path.index(after: close)...])
    }
}
