import Foundation
import Yams

/// Loading a topology file: YAML (or JSON, which is YAML) to a checked `Topology`.
extension Topology {
    /// Reads, parses and checks the topology file at `path`.
    ///
    /// Throws the first problem in file order (see `check(yaml:file:)` for all of them); the
    /// error names `path` as given.
    public static func load(path: String) throws(ConfigError) -> Topology {
        try parse(yaml: readText(path: path), file: path)
    }

    /// Parses and checks a topology document; `file` is the name errors carry.
    ///
    /// Throws the first problem in file order: a YAML syntax error, else the first value that
    /// cannot be read (an unknown key, a bad address, a missing key), else the first
    /// inconsistency between values (an unknown port, overlapping subnets, ...).
    public static func parse(yaml: String, file: String) throws(ConfigError) -> Topology {
        switch decode(yaml: yaml, file: file) {
        case .success(let topology): return topology
        case .failure(let problems): throw problems.first
        }
    }

    /// Every problem with a topology document, in file order; empty when it is valid.
    ///
    /// Reading and checking are two passes: when any value cannot be read, these are the
    /// reading problems only, since checks between values would trip over the missing ones.
    public static func check(yaml: String, file: String) -> [ConfigError] {
        switch decode(yaml: yaml, file: file) {
        case .success: []
        case .failure(let problems): problems.all
        }
    }

    /// Every problem with the topology file at `path`, in file order; empty when it is valid.
    public static func check(path: String) -> [ConfigError] {
        do throws(ConfigError) {
            return check(yaml: try readText(path: path), file: path)
        } catch {
            return [error]
        }
    }

    /// Reads, then checks; the problems come sorted by line.
    private static func decode(yaml: String, file: String) -> Result<Topology, Problems> {
        read(yaml: yaml, file: file).flatMap { validated($0.topology, source: $0.source, file: file) }
    }

    /// Composes and reads a document into the model, with where each value was written: a
    /// whole topology file, or with `base` (the running topology) a fragment (see
    /// `ConfigReader.topology(_:base:)`), which may also be empty.
    static func read(yaml: String, file: String, base: Topology? = nil) -> Result<(topology: Topology, source: SourceMap), Problems> {
        let root: Node?
        do {
            root = try Yams.compose(yaml: yaml, .basic)
        } catch {
            return .failure(Problems(sorting: [syntaxError(error, yaml: yaml, file: file)], file: file))
        }
        if root == nil, base == nil {
            let problem = "expected a mapping with node and ports, got an empty document"
            return .failure(Problems(sorting: [ConfigError(file: file, line: 1, path: "", problem: problem)], file: file))
        }
        let reader = ConfigReader(file: file)
        guard let topology = reader.topology(root, base: base), reader.errors.isEmpty else {
            return .failure(Problems(sorting: reader.errors, file: file))
        }
        return .success((topology, reader.source))
    }

    /// `topology` if it passes every check between values (`Validator`), else the problems.
    static func validated(_ topology: Topology, source: SourceMap, file: String) -> Result<Topology, Problems> {
        var validator = Validator(topology: topology, source: source, file: file)
        validator.run()
        return validator.errors.isEmpty ? .success(topology) : .failure(Problems(sorting: validator.errors, file: file))
    }

    /// The file's text, or an error saying why it cannot be had.
    private static func readText(path: String) throws(ConfigError) -> String {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) else {
            throw ConfigError(file: path, line: 0, path: "", problem: "no such file")
        }
        guard !isDirectory.boolValue else {
            throw ConfigError(file: path, line: 0, path: "", problem: "expected a topology file, got a directory")
        }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigError(file: path, line: 0, path: "", problem: "cannot be read (permission denied?)")
        }
        guard let text = String(validating: data, as: UTF8.self) else {
            throw ConfigError(file: path, line: firstInvalidUTF8Line(data), path: "", problem: "expected UTF-8 text, got bytes that are not UTF-8")
        }
        return text
    }
}

/// The line (from 1) of the first byte sequence in `data` that is not UTF-8.
private func firstInvalidUTF8Line(_ data: Data) -> Int {
    var line = 1
    var bytes = data.makeIterator()
    var parser = Unicode.UTF8.ForwardParser()
    while true {
        switch parser.parseScalar(from: &bytes) {
        case .valid(let scalar): if Unicode.UTF8.decode(scalar) == "\n" { line += 1 }
        case .emptyInput, .error: return line
        }
    }
}

/// At least one problem: the first, in file order, then the rest.
struct Problems: Error {
    /// The first problem.
    let first: ConfigError
    /// The others, in file order.
    let rest: [ConfigError]
    /// All of them.
    var all: [ConfigError] { [first] + rest }

    /// `errors` sorted by line, stably: problems on one line keep the order they were found in
    /// (a running value's, line 0, come first). No errors at all is itself a problem.
    init(sorting errors: [ConfigError], file: String) {
        let sorted = errors.enumerated().sorted { ($0.element.line, $0.offset) < ($1.element.line, $1.offset) }.map(\.element)
        first = sorted.first ?? ConfigError(file: file, line: 1, path: "", problem: "expected a topology, got a document that could not be read")
        rest = Array(sorted.dropFirst())
    }
}
