import ArgumentParser

/// The `--node` option of the verbs that talk to a running switch.
struct NodeOption: ParsableArguments {
    @Option(help: "The node whose switch to ask (its topology's node:); default: the only one running.")
    var node: String?

    /// Asks the switch for `table` and prints its lines.
    func printTable(_ table: String) throws {
        for line in try ControlSocket.request(table, node: node) { standardOutput(line) }
    }
}

/// `pier fdb [--node NAME]`: the running switch's MAC tables, one entry a line (the lines of
/// `pier replay --dump`).
struct FdbCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "fdb", abstract: "Show the running switch's FDB, one entry a line.")

    @OptionGroup var switchNode: NodeOption

    func run() throws { try switchNode.printTable("fdb") }
}

/// `pier conntrack [--node NAME]`: the running switch's connections, one entry a line.
struct ConntrackCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "conntrack", abstract: "Show the running switch's connection table, one entry a line.")

    @OptionGroup var switchNode: NodeOption

    func run() throws { try switchNode.printTable("conntrack") }
}
