/// A problem with a topology file, located by file, line and key path.
///
/// Its description is one line, `FILE:LINE: KEY.PATH: PROBLEM`, where the problem says what
/// was expected and what was found:
///
///     topo.yaml:12: bridges[0].ip: expected an address with a prefix length like 172.17.0.1/16, got "172.17.0.300/16"
///
/// The key path spells mapping keys with dots and list positions (from 0) in brackets. A YAML
/// syntax error has no key path (`FILE:LINE: PROBLEM`), and a file that cannot be opened has no
/// line either (`FILE: PROBLEM`).
public struct ConfigError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The file, as it was named to the loader.
    public var file: String
    /// The line the problem is on, from 1; 0 when it concerns the file as a whole.
    public var line: Int
    /// The key path, like `ports[1].speed`; empty for a syntax error or an unreadable file.
    public var path: String
    /// What is wrong: what was expected, and what was found.
    public var problem: String

    /// Makes an error.
    public init(file: String, line: Int, path: String, problem: String) {
        self.file = file
        self.line = line
        self.path = path
        self.problem = problem
    }

    /// `FILE:LINE: KEY.PATH: PROBLEM`, on one line.
    public var description: String {
        var text = file
        if line > 0 { text += ":\(line)" }
        if !path.isEmpty { text += ": \(path)" }
        // A problem quotes file content; keep the description on one line whatever it holds.
        let oneLine = problem.split(whereSeparator: \.isNewline).joined(separator: " ")
        return text + ": " + oneLine
    }
}
