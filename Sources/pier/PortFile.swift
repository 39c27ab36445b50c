import ArgumentParser
import Dataplane
#if canImport(Glibc)
import Glibc
#endif

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

extension [PortFile] {
    /// Throws a usage error when two of these outputs (`option`) name the same file: the
    /// second would replace the first's.
    func requireDistinctFiles(option: String) throws {
        if let (first, second) = sameFile() {
            throw InputError(message: "\(option) \(first.port)=\(first.path) and \(option) \(second.port)=\(second.path) name the same file")
        }
    }

    /// The first two outputs that name the same file (the same name in the same directory,
    /// however the directory is spelled), if any.
    func sameFile() -> (PortFile, PortFile)? {
        var seen: [String: PortFile] = [:]
        for output in self {
            let slash = output.path.lastIndex(of: "/")
            let directory = slash.map { output.path[...$0] }.map(String.init) ?? "."
            let name = slash.map { String(output.path[output.path.index(after: $0)...]) } ?? output.path
            var status = stat()
            let key = stat(directory, &status) == 0 ? "\(status.st_dev):\(status.st_ino)/\(name)" : output.path
            if let first = seen[key] { return (first, output) }
            seen[key] = output
        }
        return nil
    }
}

extension PipelineConfig {
    /// The port `name` that `option` (`--in`, `--out`, `--capture`) names, or a usage error
    /// naming the option, the topology and its ports.
    func portID(_ name: String, option: String, topologyPath: String) throws -> PortID {
        guard let id = port(named: name) else {
            let known = ports.map(\.name).joined(separator: ", ")
            throw InputError(message: "\(option) \(name)=…: \(topologyPath) has no port \(name) (ports: \(known))")
        }
        return id
    }
}
