import CTap
import Dataplane
import PacketIO

#if canImport(Glibc)
import Glibc
#endif

/// The running switch's control socket, `/run/pier/NODE.sock`: a client sends a table's name
/// and a newline, the switch answers with the table's lines and closes. Tables: `fdb`,
/// `routes`, `neighbors`, `conntrack`, `dump` (all four).
enum ControlSocket {
    /// Where the sockets live.
    static let directory = "/run/pier"

    /// The socket of the switch serving `node`.
    static func path(node: String) -> String { "\(directory)/\(node).sock" }

    /// The lines that answer a request for `table`.
    static func answer(_ table: String, pipeline: Pipeline) -> [String] {
        switch table {
        case "fdb": TableText.fdb(pipeline)
        case "routes": TableText.routes(pipeline)
        case "neighbors": TableText.neighbors(pipeline)
        case "dump": TableText.dump(pipeline)
        case "conntrack": pipeline.conntrackLines()
        default: ["error: no table \(table) (tables: fdb, routes, neighbors, dump, conntrack)"]
        }
    }

    /// Asks the switch of `node` (or the only one running) for `table`; the lines, or an
    /// error naming what is wrong.
    static func request(_ table: String, node: String?) throws -> [String] {
        let socket = try socketPath(node: node)
        let connection = pier_unix_connect(socket)
        guard connection >= 0 else {
            throw RuntimeFailure(message: "\(socket): \(systemMessage(-connection)) (is pier switch running for this node?)")
        }
        defer { close(connection) }
        let request = Array((table + "\n").utf8)
        _ = request.withUnsafeBytes { pier_write(connection, $0.baseAddress, $0.count) }
        var reply: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = buffer.withUnsafeMutableBytes { pier_read(connection, $0.baseAddress, $0.count) }
            if count == -Int(EINTR) { continue }
            guard count > 0 else {
                if count < 0 { throw RuntimeFailure(message: "\(socket): \(systemMessage(Int32(-count)))") }
                break
            }
            reply.append(contentsOf: buffer[0..<count])
        }
        return String(decoding: reply, as: UTF8.self).split(separator: "\n").map(String.init)
    }

    /// The socket for `node`, or the only socket present when no node is named.
    private static func socketPath(node: String?) throws -> String {
        if let node { return path(node: node) }
        let sockets = socketNames()
        guard sockets.count == 1 else {
            if sockets.isEmpty { throw RuntimeFailure(message: "no pier switch is running (no socket in \(directory))") }
            throw InputError(message: "several switches are running (\(sockets.joined(separator: ", "))): name one with --node")
        }
        return path(node: sockets[0])
    }

    /// The node names of the sockets in the directory.
    private static func socketNames() -> [String] {
        guard let handle = opendir(directory) else { return [] }
        defer { closedir(handle) }
        var names: [String] = []
        while let entry = readdir(handle) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name.hasSuffix(".sock") { names.append(String(name.dropLast(5))) }
        }
        return names.sorted()
    }
}
