import Dataplane
import Wire

/// `pier bench conntrack nat`: the conntrack stage's own per-packet work, through its real
/// code path (`ConntrackStage.process`), on 54-byte TCP frames copied into pool frames first
/// as a TAP read would, in batches of 64. The workload is PierBench's `ConntrackWorkload`,
/// the same one the Benchmarks package's Conntrack suite runs.
///
/// - `conntrack-10k`, `conntrack-1M`: established, masqueraded connections; every frame is a
///   reply from the outside to a random one of them: key read, table lookup, timer and state
///   update, NAT rewrite with the precomputed checksum deltas.
/// - `nat-new`: new connections, each a SYN from a container to a new destination: DNAT
///   check, egress, MASQUERADE with the unique-port check, insertion under both keys, rewrite.
///   Reported as frames (= connections) per second.
package enum ConntrackBench {
    /// New connections per second: `min(packets, 1M)` SYNs into an empty table.
    package static func newConnections(packets: Int, meter: BenchMeter) -> BenchResult {
        let count = max(64, min(packets, 1_000_000) / 64 * 64)
        let workload = ConntrackWorkload(capacity: count)
        workload.templates = ConntrackWorkload.syns(count)
        var result = meter.measure(stage: "nat-new", frames: count) { workload.run(frames: count) }
        precondition(workload.connectionCount == count, "every SYN should have opened a connection")
        result.memoryBytesPerEntry = Double(workload.tableMemoryBytes) / Double(count)
        return result
    }

    /// Established IPv6 lookup + rewrite over `connections` masqueraded connections
    /// (`conntrack6-10k`), beside IPv4's `conntrack-10k`.
    package static func established6(connections: Int, packets: Int, meter: BenchMeter) -> BenchResult {
        let workload = ConntrackWorkload6.established(connections / 64 * 64)
        let frames = packets / 64 * 64
        var result = meter.measure(stage: "conntrack6-10k", frames: frames) { workload.run(frames: frames) }
        precondition(workload.connectionCount == connections / 64 * 64, "every IPv6 SYN should have opened a connection")
        result.memoryBytesPerEntry = Double(workload.tableMemoryBytes) / Double(connections / 64 * 64)
        return result
    }

    /// Established lookup + rewrite over `connections` masqueraded connections.
    package static func established(connections: Int, packets: Int, label: String, meter: BenchMeter) -> BenchResult {
        let workload = ConntrackWorkload.established(connections / 64 * 64, capacity: connections)
        let frames = packets / 64 * 64
        var result = meter.measure(stage: "conntrack-\(label)", frames: frames) { workload.run(frames: frames) }
        result.memoryBytesPerEntry = Double(workload.tableMemoryBytes) / Double(connections)
        return result
    }
}
