import ArgumentParser
import Foundation
import Inspect
import Logging
import PacketIO

/// How `pier switch` writes its log (`--log-format`): `switch: MESSAGE` lines for people, or
/// one JSON object a line for machines (`{"time":…,"level":"notice","message":…}`).
/// `pier switch --io uring|epoll`.
extension LiveIOMode: ExpressibleByArgument {}

enum LogFormat: String, CaseIterable, ExpressibleByArgument {
    case text, json
}

/// The switch's log, through swift-log: port state changes, changes applied, reloads, the
/// counters line; each with a level (`info`, `notice` for changes, `warning` for ports that are
/// down, `error` for what was refused).
struct SwitchLog {
    let logger: Logger

    /// A log written to standard output in `format`.
    init(format: LogFormat) {
        logger = Logger(label: "pier.switch") { label in SwitchLogHandler(label: label, format: format) }
    }

    /// Logs `text` at `severity`.
    func callAsFunction(_ severity: LogSeverity, _ text: String) {
        switch severity {
        case .info: logger.info("\(text)")
        case .notice: logger.notice("\(text)")
        case .warning: logger.warning("\(text)")
        case .error: logger.error("\(text)")
        }
    }
}

/// Writes swift-log's records to standard output, one line each, in the switch's format.
struct SwitchLogHandler: LogHandler {
    let label: String
    let format: LogFormat
    var logLevel: Logger.Level = .info
    var metadata: Logger.Metadata = [:]

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let (level, message, extra) = (event.level, event.message, event.metadata)
        switch format {
        case .text:
            standardOutput("switch: \(message)")
        case .json:
            var members: [(String, JSONValue)] = [
                ("time", .string(Date().formatted(.iso8601.year().month().day().time(includingFractionalSeconds: true)))),
                ("level", .string(level.rawValue)), ("logger", .string(label)), ("message", .string(message.description)),
            ]
            for (key, value) in metadata.merging(extra ?? [:], uniquingKeysWith: { $1 }).sorted(by: { $0.key < $1.key }) {
                members.append((key, .string(value.description)))
            }
            standardOutput(JSONValue.object(members).serialized)
        }
    }
}
