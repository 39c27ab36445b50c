import ArgumentParser
import CTap
import Dataplane
import PacketIO
import PierMetrics

extension SwitchCommand {
    /// The `--metrics` value parsed, or a usage error (exit 2) saying what is wrong.
    static func metricsAddress(_ text: String) throws -> MetricsAddress {
        do { return try MetricsAddress(parsing: text) } catch { throw ValidationError(error.description) }
    }

    /// Starts the metrics server at `text` (`--metrics`), publishes a first snapshot and has the
    /// loop publish one every second; logs where it serves. An address in use is exit 1, one
    /// that does not resolve exit 2.
    static func serveMetrics(_ text: String, live: LiveSwitch<TapPort>, log: SwitchLog) throws -> MetricsServer {
        let address = try metricsAddress(text)
        let server: MetricsServer
        do {
            server = try MetricsServer(host: address.host, port: address.port)
        } catch {
            let message = "--metrics \(text): \(error.reason)"
            throw error.badAddress ? InputError(message: message) as any Error : RuntimeFailure(message: message)
        }
        // On the loop's thread, between batches: the clock brought up to date, as for a control
        // request, so the FDB and conntrack counts leave out what has aged out. The pipeline is
        // the live one (a change swaps it; its counters carry on).
        live.onTick = { [unowned live] in
            let pipeline = live.pipeline
            pipeline.context.now = Timestamp(nanoseconds: pier_monotonic_ns())
            let up = live.ports.filter { $0.isUp && !$0.linkDown }.map(\.port)
            let devices = Dictionary(live.ports.map { ($0.name, Self.deviceEvents($0.counters)) }) { first, _ in first }
            server.publish(MetricsSnapshot(pipeline: pipeline, portsUp: Set(up), devices: devices))
        }
        live.onTick?()
        log(.info, "metrics at \(server.url)")
        return server
    }

    /// A TAP port's counters as metrics' device events (the stats line's names).
    static func deviceEvents(_ counters: LivePortCounters) -> [DeviceEvent: Int] {
        [.txBlocked: counters.sendBlocked, .txDown: counters.sendWhileDown, .offloadRefused: counters.offloadRefused,
         .rxSuper: counters.superFramesReceived, .txSuper: counters.superFramesSent,
         .txSegmented: counters.superFramesSegmented, .txCoalesced: counters.coalescedSent, .errors: counters.errors]
    }
}
