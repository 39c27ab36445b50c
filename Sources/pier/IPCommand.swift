import CTap
import PacketIO

#if canImport(Glibc)
import Glibc
#endif

/// Runs iproute2's `ip` for `pier up` and `pier down`, which change network namespaces and
/// links the way an operator would by hand (and the way the tests check them).
enum IPCommand {
    /// What a finished command printed and returned.
    struct Outcome {
        var status: Int32
        var output: String
    }

    /// Runs `ip arguments…`.
    static func run(_ arguments: [String]) -> Outcome {
        var cStrings: [UnsafeMutablePointer<CChar>?] = (["ip"] + arguments).map { strdup($0) } + [nil]
        defer { for pointer in cStrings { free(pointer) } }
        var buffer = [CChar](repeating: 0, count: 4_096)
        let status = cStrings.withUnsafeMutableBufferPointer { argv in
            buffer.withUnsafeMutableBufferPointer { pier_run(argv.baseAddress, $0.baseAddress, $0.count) }
        }
        let output = buffer.withUnsafeBufferPointer { String(cString: $0.baseAddress!) }
        return Outcome(status: status, output: output)
    }

    /// Runs `ip arguments…` and fails with its message when it fails.
    static func require(_ arguments: [String]) throws {
        let outcome = run(arguments)
        guard outcome.status == 0 else {
            let reason = outcome.status < 0
                ? "cannot run ip (\(systemMessage(-outcome.status))): install iproute2"
                : outcome.output.split(separator: "\n").first.map(String.init) ?? "exit \(outcome.status)"
            throw RuntimeFailure(message: "ip \(arguments.joined(separator: " ")): \(reason)")
        }
    }

    /// True when `ip arguments…` succeeds (a query: does this link exist?).
    static func succeeds(_ arguments: [String]) -> Bool { run(arguments).status == 0 }

    /// True when the namespace `name` is bound (`ip netns add` made it).
    static func namespaceExists(_ name: String) -> Bool { pier_inode(TapPort.namespacePath(name)) != 0 }

    /// True when the link `device` exists in namespace `namespace` (nil: the current one).
    static func linkExists(_ device: String, in namespace: String?) -> Bool {
        succeeds((namespace.map { ["-n", $0] } ?? []) + ["link", "show", "dev", device])
    }
}
