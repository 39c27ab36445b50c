import ArgumentParser

/// A `PORT=FILE` argument of `--in` and `--out`.
struct PortFile: ExpressibleByArgument, Equatable {
    /// The port's name (`p0`, `eth0`, `c1`, …).
    var port: String
    /// The capture file's path.
    var path: String

    init?(argument: String) {
        guard let equals = argument.firstIndex(of: "="), equals != argument.startIndex else { return nil }
        port = String(argument[..<equals])
        path = String(argument[argument.index(after: equals)...])
        guard !path.isEmpty else { return nil }
    }

    static var defaultCompletionKind: CompletionKind { .file() }
}
