import Yams

/// The entries of one mapping, after its keys were checked against the allowed ones.
struct Entries {
    /// The mapping itself.
    let at: Located
    /// Each key's value, located.
    let values: [String: Located]

    /// The value of `key`, if present.
    subscript(key: String) -> Located? { values[key] }
}

extension ConfigReader {
    /// Reads a mapping whose keys must come from `allowed`; each other key is an error. An
    /// empty value reads as an empty mapping; nil when the value is not a mapping at all.
    func entries(_ value: Located, allowed: [String], expected: String) -> Entries? {
        if isNull(value.node) { return Entries(at: value, values: [:]) }
        guard case .mapping(let mapping) = value.node else {
            fail(value, "expected \(expected), got \(describe(value.node))")
            return nil
        }
        var values: [String: Located] = [:]
        for (key, child) in mapping {
            let keyLine = key.mark?.line ?? value.line
            guard case .scalar(let scalar) = key else {
                fail(line: keyLine, path: value.path, "expected a key name, got \(describe(key))")
                continue
            }
            let name = scalar.string
            let path = value.path.isEmpty ? name : "\(value.path).\(name)"
            guard allowed.contains(name) else {
                fail(line: keyLine, path: path, "unknown key (expected one of: \(allowed.joined(separator: ", ")))")
                continue
            }
            values[name] = located(child, path: path, line: line(of: child, keyLine: keyLine))
        }
        return Entries(at: value, values: values)
    }

    /// The value of a key that must be present; a missing one is an error that says what was expected.
    func required(_ entries: Entries, _ key: String, expected: String) -> Located? {
        if let value = entries[key], !isNull(value.node) { return value }
        let path = entries.at.path.isEmpty ? key : "\(entries.at.path).\(key)"
        fail(line: entries[key]?.line ?? entries.at.line, path: path, "missing (expected \(expected))")
        return nil
    }

    /// The elements of a list, each located as `path[i]`. An empty value is an empty list; a
    /// single scalar is a one-element list when `single` is true, and an error otherwise.
    func elements(_ value: Located, expected: String, single: Bool = false) -> [Located] {
        switch value.node {
        case .sequence(let sequence):
            return sequence.enumerated().map { index, element in
                located(element, path: "\(value.path)[\(index)]", line: element.mark?.line ?? value.line)
            }
        case .scalar where isNull(value.node):
            return []
        case .scalar where single:
            return [value]
        default:
            fail(value, "expected \(expected), got \(describe(value.node))")
            return []
        }
    }

    /// The text of a scalar; an error (saying what was expected) for an empty value or a collection.
    func text(_ value: Located, expected: String) -> String? {
        guard case .scalar(let scalar) = value.node, !isNull(value.node) else {
            fail(value, "expected \(expected), got \(describe(value.node))")
            return nil
        }
        return scalar.string
    }

    /// True for an empty value and a plain `~` or `null`.
    func isNull(_ node: Node) -> Bool {
        guard case .scalar(let scalar) = node, scalar.style == .plain || scalar.style == .any else { return false }
        return ["", "~", "null", "Null", "NULL"].contains(scalar.string)
    }

    /// How a found value reads in an error: a quoted scalar, `nothing`, `a list` or `a mapping`.
    func describe(_ node: Node) -> String {
        switch node {
        case .scalar(let scalar): isNull(node) ? "nothing" : quoted(scalar.string)
        case .sequence: "a list"
        case .mapping: "a mapping"
        case .alias: "an alias"
        }
    }

    /// A value's line: a scalar's own line, or its key's line for collections and empty values.
    private func line(of node: Node, keyLine: Int) -> Int {
        guard case .scalar = node, !isNull(node) else { return keyLine }
        return node.mark?.line ?? keyLine
    }
}

/// `text` in double quotes, with quotes, backslashes and control characters escaped as JSON
/// escapes them (`\n`, `\u001f`): a JSON string, and a YAML double-quoted one.
func quoted(_ text: String) -> String {
    var result = "\""
    for scalar in text.unicodeScalars {
        switch scalar {
        case "\"": result += "\\\""
        case "\\": result += "\\\\"
        case "\n": result += "\\n"
        case "\t": result += "\\t"
        case "\r": result += "\\r"
        default:
            if scalar.properties.generalCategory == .control {
                let hex = String(scalar.value, radix: 16)
                result += "\\u" + String(repeating: "0", count: max(0, 4 - hex.count)) + hex
            } else {
                result.unicodeScalars.append(scalar)
            }
        }
    }
    return result + "\""
}
