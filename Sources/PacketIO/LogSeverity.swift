/// How much a line of the live switch's log matters (mapped to swift-log's levels by `pier`).
public enum LogSeverity: Sendable {
    /// What happens as it should: a port up, the counters line.
    case info
    /// A change of the running configuration.
    case notice
    /// Something is wrong with a port: waiting for its device, down, its link down.
    case warning
    /// A request or reload refused.
    case error
}
