import ArgumentParser

/// `pier fdb [--node NAME]`: the running switch's MAC tables, one entry a line (the lines of
/// `pier replay --dump`).
struct FdbCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fdb", abstract: "Show the running switch's FDB, one entry a line.")

    @Option(help: "The node whose switch to ask (its topology's node:); default: the only one running.")
    var node: String?

    func run() throws {
        for line in try ControlSocket.request("fdb", node: node) { standardOutput(line) }
    }
}

/// `pier conntrack [--node NAME]`: the running switch's connections, one entry a line.
struct ConntrackCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "conntrack", abstract: "Show the running switch's connection table, one entry a line.")

    @Option(help: "The node whose switch to ask (its topology's node:); default: the only one running.")
    var node: String?

    func run() throws {
        for line in try ControlSocket.request("conntrack", node: node) { standardOutput(line) }
    }
}
