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
    /// The index of each port name in `ports` (the first, if one is used twice).
    let portIndices: [String: Int]

    /// Makes a validator.
    init(topology: Topology, source: SourceMap, file: String) {
        self.topology = topology
        self.source = source
        self.file = file
        portIndices = Dictionary(topology.ports.enumerated().map { ($1.name, $0) }, uniquingKeysWith: { first, _ in first })
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
        checkServicePolicies()
        checkIPv6NAT()
        checkOverlay()
        checkContainers()
    }

    /// Records a problem at `path` (which may be logical, like `ports[0].ip.v4[1]`).
    mutating func fail(_ path: String, _ problem: String) {
        let place = source.place(path)
        errors.append(ConfigError(file: file, line: place.line, path: place.path, problem: problem))
    }

    /// `path (line N)`, to name the other place involved in a conflict; a running value's
    /// place has no line (`services[3].clusterIP (running)`).
    func reference(_ path: String) -> String {
        let place = source.place(path)
        return place.line > 0 ? "\(place.path) (line \(place.line))" : place.path
    }

    /// The line of `path`.
    func line(_ path: String) -> Int { source.place(path).line }

    /// The port names, for "expected one of" lists (the first dozen).
    var portNames: String { someOf(topology.ports.map(\.name)) }


    /// The positions of the list at `list` (`ports`, `nat.masquerade`) in the order its
    /// elements were written: in a merged topology, the running topology's first, then the
    /// document's in its order, so that a conflict between the two is reported at the written one.
    func order(_ list: String, count: Int) -> [Int] {
        guard let origins = source.origins[list], origins.count == count else { return Array(0..<count) }
        var running: [Int] = [], written: [(at: Int, index: Int)] = []
        for (index, origin) in origins.enumerated() {
            switch origin {
            case .running: running.append(index)
            case .written(let at): written.append((at, index))
            }
        }
        return running + written.sorted { $0.at < $1.at }.map(\.index)
    }

    /// Each position in `keys` whose key an earlier position already has, with the first
    /// position that has it; nil keys are skipped. "Earlier" is `order(list, ...)`'s order
    /// when `list` is given, else index order.
    func duplicates<Key: Hashable>(_ keys: [Key?], in list: String? = nil) -> [(index: Int, first: Int)] {
        var first: [Key: Int] = [:]
        first.reserveCapacity(keys.count)
        var result: [(Int, Int)] = []
        for index in list.map({ order($0, count: keys.count) }) ?? Array(keys.indices) {
            guard let key = keys[index] else { continue }
            if let earlier = first[key] { result.append((index, earlier)) } else { first[key] = index }
        }
        return result
    }
}

/// The first dozen of `names`, for "expected one of" lists.
func someOf(_ names: [String]) -> String {
    let shown = names.prefix(12).joined(separator: ", ")
    return names.count > 12 ? shown + ", ..." : shown
}
