import ArgumentParser
import Foundation
import PacketIO
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
        let text: String
        if file == "-" {
            text = String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
        } else {
            guard let data = FileManager.default.contents(atPath: file) else { throw InputError(message: "\(file): cannot be read") }
            text = String(decoding: data, as: UTF8.self)
        }
        let request = #"{"v":1,"op":"apply","file":\#(ControlReply.jsonString(file == "-" ? "stdin" : file)),"yaml":\#(ControlReply.jsonString(text))}"#
        printChanges(try ControlSocket.call(request, node: switchNode.node))
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

    func run() throws {
        let request = #"{"v":1,"op":"delete","kind":\#(ControlReply.jsonString(kind)),"name":\#(ControlReply.jsonString(name))}"#
        printChanges(try ControlSocket.call(request, node: switchNode.node))
    }
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
        let kindField = kind.map { #","kind":\#(ControlReply.jsonString($0))"# } ?? ""
        let request = #"{"v":1,"op":"get"\#(kindField),"format":"\#(json ? "json" : "yaml")"}"#
        let reply = try ControlSocket.call(request, node: switchNode.node)
        let text = reply["text"] as? String ?? ""
        standardOutputRaw(text.hasSuffix("\n") ? text : text + "\n")
    }
}

/// Prints a change reply's changes, one a line (nothing when nothing changed).
private func printChanges(_ reply: [String: Any]) {
    for change in reply["changes"] as? [String] ?? [] { standardOutput(change) }
}
