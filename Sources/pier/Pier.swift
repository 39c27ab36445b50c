import ArgumentParser
import PacketIO

#if canImport(Glibc)
import Glibc
#endif

/// The `pier` command: a userspace dataplane for container networking (DESIGN.md,
/// "Command-line contract"). Exit codes: 0 success, 1 runtime failure, 2 bad usage or input.
@main
struct Pier: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "pier",
        abstract: "A userspace packet-processing dataplane for container networking.",
        subcommands: [InspectCommand.self, ReplayCommand.self, SwitchCommand.self, ApplyCommand.self, GetCommand.self,
                      DeleteCommand.self, UpCommand.self, DownCommand.self, FdbCommand.self, ConntrackCommand.self,
                      ImportCommand.self, BenchCommand.self])

    /// Parses and runs a verb, mapping failures to the contract's exit codes and one line on
    /// stderr (ArgumentParser's own usage errors would otherwise exit 64).
    static func main() {
        if CNIPlugin.isInvoked { CNIPlugin.main() }
        do {
            var command = try parseAsRoot()
            try command.run()
        } catch {
            if exitCode(for: error) == .success || error is CleanExit { exit(withError: error) }
            let status: Int32
            let message: String
            switch error {
            case let failure as RuntimeFailure:
                status = 1
                message = failure.message
            case let capture as CaptureError:
                status = 2
                message = capture.description
            case let input as InputError:
                status = 2
                message = input.message
            default:
                status = 2
                let firstLine = Pier.message(for: error).split(separator: "\n").first.map(String.init) ?? "bad usage"
                message = firstLine + " (see pier --help)"
            }
            standardError("pier: " + message)
            Glibc.exit(status)
        }
    }
}

/// A failure while running (an output file that cannot be written): exit 1.
struct RuntimeFailure: Error {
    var message: String
}

/// Bad input or usage found by Pier itself: exit 2.
struct InputError: Error {
    var message: String
}
