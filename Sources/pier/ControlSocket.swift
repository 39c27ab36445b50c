import CTap
import Foundation
import Dataplane
import PacketIO

#if canImport(Glibc)
import Glibc
#endif

/// The running switch's control socket, `/run/pier/NODE.sock` (DESIGN.md, "Control
/// protocol"): JSON requests and replies, one a line (`ControlRequest`), served by
/// `SwitchControl`. Tables: `fdb`, `routes`, `neighbors`, `conntrack`, `dump` (all four); a
/// bare table name and a newline (the first protocol) still gets the table's lines.
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
        let reply = try call(ControlJSON.request("table", [("name", .string(table))]), node: node)
        return reply["lines"] as? [String] ?? []
    }

    /// Sends one request line to the switch of `node` (or the only one running) and returns
    /// its JSON reply; an error reply throws its message as bad input (exit 2), a switch that
    /// cannot be reached as a runtime failure (exit 1). Waits up to `seconds` for the answer.
    static func call(_ request: String, node: String?, seconds: Int32 = 60) throws -> [String: Any] {
        let socket = try socketPath(node: node)
        let connection = pier_unix_connect(socket)
        guard connection >= 0 else {
            throw RuntimeFailure(message: "\(socket): \(systemMessage(-connection)) (is pier switch running for this node?)")
        }
        defer { close(connection) }
        _ = pier_socket_timeout(connection, seconds)
        let bytes = Array((request + "\n").utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { pier_write(connection, $0.baseAddress! + offset, $0.count - offset) }
            guard written > 0 else { throw RuntimeFailure(message: "\(socket): the switch stopped reading the request") }
            offset += written
        }
        var reply: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while !reply.contains(UInt8(ascii: "\n")) {
            let count = buffer.withUnsafeMutableBytes { pier_read(connection, $0.baseAddress, $0.count) }
            if count == -Int(EINTR) { continue }
            guard count > 0 else {
                if count < 0 { throw RuntimeFailure(message: "\(socket): \(systemMessage(Int32(-count)))") }
                break
            }
            reply.append(contentsOf: buffer[0..<count])
        }
        guard let object = try? JSONSerialization.jsonObject(with: Data(reply)) as? [String: Any] else {
            throw RuntimeFailure(message: "\(socket): the switch's answer is not a JSON object (an older pier switch?)")
        }
        if let problem = object["error"] as? String { throw InputError(message: problem) }
        return object
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

    /// The node of the only switch running, if exactly one is.
    static func onlyNode() -> String? {
        let sockets = socketNames()
        return sockets.count == 1 ? sockets[0] : nil
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
