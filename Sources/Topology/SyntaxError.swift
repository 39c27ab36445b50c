import Yams

/// A Yams error as a `ConfigError`: the line of the problem and libyaml's description of it.
func syntaxError(_ error: any Error, yaml: String, file: String) -> ConfigError {
    func make(_ line: Int, _ problem: String) -> ConfigError {
        ConfigError(file: file, line: line, path: "", problem: problem)
    }
    guard let error = error as? YamlError else {
        return make(1, "invalid YAML: \(error)")
    }
    switch error {
    case .scanner(let context, let problem, let mark, _),
         .parser(let context, let problem, let mark, _),
         .composer(let context, let problem, let mark, _):
        if problem == "but found another document" {
            return make(mark.line, "expected one YAML document, got a second one")
        }
        var text = "invalid YAML: \(problem) (column \(mark.column)"
        if isTab(at: mark, in: yaml) { text = "invalid YAML: a tab cannot indent YAML, use spaces (column \(mark.column)" }
        if let context {
            text += ", \(context.text)"
            if context.mark.line != mark.line { text += " that starts on line \(context.mark.line)" }
        }
        return make(mark.line, text + ")")
    case .reader(let problem, let offset, _, let yaml):
        let line = offset.map { yaml.prefix($0).reduce(1) { $1.isNewline ? $0 + 1 : $0 } } ?? 1
        return make(line, "expected UTF-8 YAML text: \(problem)")
    case .duplicatedKeysInMapping(let duplicates, let context):
        let keys = duplicates.map(quoted).joined(separator: ", ")
        let noun = duplicates.count == 1 ? "key" : "keys"
        return make(context.mark.line, "expected each key once in a mapping, got the \(noun) \(keys) here and again later in the same mapping")
    default:
        return make(1, "invalid YAML: \(error)")
    }
}

/// True when the character at `mark` (line and column from 1, counted in Unicode scalars) is a tab.
private func isTab(at mark: Mark, in yaml: String) -> Bool {
    let lines = yaml.split(separator: "\n", omittingEmptySubsequences: false)
    guard mark.line >= 1, mark.line <= lines.count else { return false }
    let scalars = Array(lines[mark.line - 1].unicodeScalars)
    return mark.column >= 1 && mark.column <= scalars.count && scalars[mark.column - 1] == "\t"
}
