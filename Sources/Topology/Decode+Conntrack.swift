/// `conntrack: {capacity, timeouts, invalid}`.
extension ConfigReader {
    /// `conntrack:`; a key not given keeps `base`'s value (timeouts one by one).
    func conntrack(_ value: Located, base: ConntrackConfig) -> ConntrackConfig {
        guard let fields = entries(value, allowed: ["capacity", "timeouts", "invalid"], expected: "a mapping like {capacity: 262144}")
        else { return base }
        let limit = Int(Int32.max)
        let capacity = fields["capacity"].flatMap { integer($0, in: 1...limit, what: "a conntrack capacity") }
        var timeouts = base.timeouts
        let names = ConntrackConfig.Timeout.allCases.map(\.rawValue)
        if let list = fields["timeouts"],
           let entries = entries(list, allowed: names, expected: "a mapping of timeout names to seconds, like {tcp_established: 7440}") {
            for (name, value) in entries.values {
                guard let timeout = ConntrackConfig.Timeout(rawValue: name),
                      let seconds = integer(value, in: 1...limit, what: "a timeout in seconds") else { continue }
                timeouts[timeout] = seconds
            }
        }
        let invalid = fields["invalid"].flatMap { choice($0, of: ConntrackConfig.InvalidPolicy.self) } ?? base.invalid
        return ConntrackConfig(capacity: capacity ?? base.capacity, timeouts: timeouts, invalid: invalid)
    }
}
