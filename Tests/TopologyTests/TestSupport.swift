import Testing
import Topology

/// The error that parsing `yaml` as `topo.yaml` throws, or nil when it loads.
func loadError(_ yaml: String) -> ConfigError? {
    do {
        _ = try Topology.parse(yaml: yaml, file: "topo.yaml")
        return nil
    } catch {
        return error
    }
}

/// One expected failure: a document, and where and how it must fail.
struct Failure: CustomTestStringConvertible, Sendable {
    /// What the case is about, for the test's name.
    let rule: String
    /// The document.
    let yaml: String
    /// The line the error must name.
    let line: Int
    /// The key path the error must name.
    let path: String
    /// Text the problem must contain (what was expected, what was found).
    let says: [String]

    /// Makes a case.
    init(_ rule: String, _ yaml: String, line: Int, path: String, says: String...) {
        self.rule = rule
        self.yaml = yaml
        self.line = line
        self.path = path
        self.says = says
    }

    var testDescription: String { rule }

    /// Asserts that the document fails exactly so.
    func check(sourceLocation: SourceLocation = #_sourceLocation) {
        guard let error = loadError(yaml) else {
            Issue.record("\(rule): loaded without an error", sourceLocation: sourceLocation)
            return
        }
        #expect(error.file == "topo.yaml", sourceLocation: sourceLocation)
        #expect(error.line == line, "\(error)", sourceLocation: sourceLocation)
        #expect(error.path == path, "\(error)", sourceLocation: sourceLocation)
        for text in says {
            #expect(error.problem.contains(text), "\(error)", sourceLocation: sourceLocation)
        }
        #expect(error.description == "topo.yaml:\(line): \(path): \(error.problem)", sourceLocation: sourceLocation)
        #expect(!error.description.contains("\n"), sourceLocation: sourceLocation)
    }
}
