import ArgumentParser
import Foundation
import Inspect
import Topology

/// `pier apply [--node NAME] FILE`: a topology fragment applied to the running switch, each
/// named object created or replaced, all or nothing; prints one line per change.
struct ApplyCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "apply", abstract: "Apply a topology fragment to the running switch (all or nothing).")

    @OptionGroup var switchNode: NodeOption

    @Argument(help: "The fragment (YAML or JSON; - for standard input).")
    var file: String

    func run() throws {
        let data = file == "-" ? FileHandle.standardInput.readDataToEndOfFile() : FileManager.default.contents(atPath: file)
        guard let data else { throw InputError(message: "\(file): cannot be read") }
        let members: [(String, JSONValue)] = [("file", .string(file == "-" ? "stdin" : file)), ("yaml", .string(String(decoding: data, as: UTF8.self)))]
        try switchNode.change(ControlJSON.request("apply", members))
    }
}

/// `pier delete [--node NAME] KIND NAME`: one object removed from the running switch.
struct DeleteCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "delete", abstract: "Remove one object from the running switch (port c3, service default/web, peer node-b, …).")

    @OptionGroup var switchNode: NodeOption

    @Argument(help: "What kind of object: \(ObjectKind.allCases.map(\.rawValue).joined(separator: ", ")).")
    var kind: String

    @Argument(help: "Its name (a service's namespace/name, a port mapping's proto/hostPort, a neighbour's ip, …).")
    var name: String

    func run() throws { try switchNode.change(ControlJSON.request("delete", [("kind", .string(kind)), ("name", .string(name))])) }
}

/// `pier get [--node NAME] [KIND] [--json]`: the running topology, as YAML `pier apply` takes back.
struct GetCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "get", abstract: "Print the running topology (or one kind of object) as YAML that pier apply takes back.")

    @OptionGroup var switchNode: NodeOption

    @Argument(help: "One kind of object: \(ObjectKind.allCases.map(\.rawValue).joined(separator: ", ")).")
    var kind: String?

    @Flag(help: "JSON instead of YAML.")
    var json = false

    func run() throws {
        let members: [(String, JSONValue)] = (kind.map { [("kind", .string($0))] } ?? []) + [("format", .string(json ? "json" : "yaml"))]
        let text = try ControlSocket.call(ControlJSON.request("get", members), node: switchNode.node)["text"] as? String ?? ""
        standardOutputRaw(text.hasSuffix("\n") ? text : text + "\n")
    }
}

extension NodeOption {
    /// Sends a change to the switch and prints what changed, one line each.
    func change(_ request: String) throws {
        for change in try ControlSocket.call(request, node: node)["changes"] as? [String] ?? [] { standardOutput(change) }
    }
}
