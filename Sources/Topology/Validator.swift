import Wire

/// The checks between values that run once the whole file has been read: names that must
/// be unique, names that must refer to something, subnets that must not overlap.
///
/// Each problem is reported at the later of the places involved, naming the earlier one.
struct Validator {
    /// The topology read.
    let topology: Topology
    /// Where its values were written.
    let source: SourceMap
    /// The file name errors carry.
    let file: String
    /// The problems found, in the order found.
    private(set) var errors: [ConfigError] = []

    /// Makes a validator.
    init(topology: Topology, source: SourceMap, file: String) {
        self.topology = topology
        self.source = source
        self.file = file
    }

    /// Runs every check.
    mutating func run() {
        checkPorts()
        checkGateways()
        checkBridges()
        checkNeighbors()
        checkSubnets()
        checkNAT()
        checkServices()
        checkOverlay()
        checkContainers()
    }

    /// Records a problem at `path` (which may be logical, like `ports[0].ip.v4[1]`).
    mutating func fail(_ path: String, _ problem: String) {
        let place = source.place(path)
        errors.append(ConfigError(file: file, line: place.line, path: place.path, problem: problem))
    }

    /// `path (line N)`, to name the other place involved in a conflict.
    func reference(_ path: String) -> String {
        let place = source.place(path)
        return "\(place.path) (line \(place.line))"
    }

    /// The line of `path`.
    func line(_ path: String) -> Int { source.place(path).line }

    /// The port names, for "expected one of" lists (the first dozen).
    var portNames: String {
        let names = topology.ports.map(\.name)
        let shown = names.prefix(12).joined(separator: ", ")
        return names.count > 12 ? shown + ", ..." : shown
    }

    /// Each position in `keys` whose key an earlier position already has, with the first
    /// position that has it; nil keys are skipped.
    func duplicates<Key: Hashable>(_ keys: [Key?]) -> [(index: Int, first: Int)] {
        var first: [Key: Int] = [:]
        var result: [(Int, Int)] = []
        for (index, key) in keys.enumerated() {
            guard let key else { continue }
            if let earlier = first[key] { result.append((index, earlier)) } else { first[key] = index }
        }
        return result
    }
}
