import ArgumentParser
import Foundation

/// `pier import [--netns NAME] [-o FILE]`: the topology of this Linux node, or of a network
/// namespace, from `ip -j`, `bridge` and `iptables-save`; warnings on stderr.
struct ImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Write the topology of this Linux node (or a network namespace) from ip -j and iptables-save.",
        discussion: """
            Ports are the node's own interfaces (eth0, the veths), so its captures replay \
            without --map. Whatever the topology cannot say is a warning on stderr quoting it.
            """)

    @Option(help: "Read the network namespace NAME (ip netns) instead of this one.")
    var netns: String?

    @Option(name: .shortAndLong, help: "Write the topology to FILE instead of stdout.")
    var output: String?

    func run() throws {
        let snapshot = NodeImport(
            links: try tool(["ip", "-j", "-d", "link", "show"]), addresses: try tool(["ip", "-j", "addr", "show"]),
            routes: try tool(["ip", "-j", "route", "show"]), neighbors: try tool(["ip", "-j", "neigh", "show"]),
            fdb: try tool(["bridge", "-j", "fdb", "show"]),
            natTable: try tool(["iptables-save", "-t", "nat"]),
            nat6Table: (try? tool(["ip6tables-save", "-t", "nat"])) ?? "",
            node: netns ?? ProcessInfo.processInfo.hostName.split(separator: ".").first.map(String.init) ?? "node")
        let (yaml, warnings) = try snapshot.topology()
        for warning in warnings { standardError("pier import: warning: " + warning) }
        if let output {
            guard FileManager.default.createFile(atPath: output, contents: Data(yaml.utf8)) else {
                throw RuntimeFailure(message: "\(output): cannot write the topology")
            }
        } else {
            print(yaml, terminator: "")
        }
    }

    /// What `arguments` prints, run in the namespace when one is given.
    private func tool(_ arguments: [String]) throws -> String {
        let command = netns.map { ["ip", "netns", "exec", $0] + arguments } ?? arguments
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = command
        let pipe = Pipe(), errors = Pipe()
        process.standardOutput = pipe
        process.standardError = errors
        do { try process.run() } catch { throw RuntimeFailure(message: "\(command.joined(separator: " ")): \(error)") }
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        let message = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            let text = String(decoding: message, as: UTF8.self).split(separator: "\n").first.map(String.init) ?? ""
            throw RuntimeFailure(message: "\(command.joined(separator: " ")) failed: \(text)")
        }
        return String(decoding: data, as: UTF8.self)
    }
}
