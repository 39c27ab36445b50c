import Dataplane
import Topology
import Wire

/// A pipeline under test without I/O, after SwiftNIO's `EmbeddedChannel`: frames go in at a
/// named port and a given time, what each port sent is read back per port in order, and the
/// counters are read by name. Only `Pipeline`'s public API is used, so tests written on it
/// do not depend on how the stages are arranged inside.
///
/// ```swift
/// let harness = try PipelineHarness(topology: yaml)
/// harness.feed(Packets.arp(.request, senderIP: c1, targetIP: gateway), into: "c1", at: 1)
/// let reply = try #require(harness.readOutbound(from: "c1"))
/// #expect(harness.events["arp-replies-sent"] == 1 && harness.drops.isEmpty)
/// ```
public final class PipelineHarness {
    /// A frame to feed: its bytes, the port it enters on and when it arrives.
    public struct Input {
        /// The frame's bytes, from the Ethernet header on.
        public var bytes: [UInt8]
        /// The port it enters on.
        public var port: PortID
        /// When it arrives: the frame's timestamp, which is the pipeline's clock in replay.
        public var time: Timestamp
        /// Checksum and segmentation work left to the receiver (a TAP device with offloads).
        public var offload: SegmentOffload

        /// Describes a frame entering `port` at `time`.
        public init(_ bytes: [UInt8], port: PortID, time: Timestamp, offload: SegmentOffload = .none) {
            self.bytes = bytes
            self.port = port
            self.time = time
            self.offload = offload
        }
    }

    /// A frame a port sent.
    public struct Output: Equatable, Sendable {
        /// The port it left by.
        public var port: PortID
        /// The port's name.
        public var portName: String
        /// Its bytes.
        public var bytes: [UInt8]
    }

    /// Records what the pipeline sends.
    private struct Recorder: FrameSink {
        var sent: [(port: PortID, bytes: [UInt8])] = []
        mutating func send(_ frame: borrowing Frame, to port: PortID) {
            sent.append((port, frame.withUnsafeBytes { Array($0) }))
        }
    }

    /// The pipeline under test.
    public private(set) var pipeline: Pipeline
    /// Frames sent and not yet read, in the order the pipeline sent them.
    public private(set) var outbound: [Output] = []

    /// Builds the pipeline for `config`.
    public init(config: PipelineConfig) {
        pipeline = Pipeline(config: config)
    }

    /// Builds the pipeline a topology document describes (DESIGN.md, "Topology contract");
    /// throws the document's first problem.
    public convenience init(topology yaml: String, file: String = "topology.yaml") throws {
        self.init(config: try Self.config(topology: yaml, file: file))
    }

    /// The configuration a topology document describes, for a test to extend (routes the
    /// topology format has no key for) before building a harness on it.
    public static func config(topology yaml: String, file: String = "topology.yaml") throws -> PipelineConfig {
        PipelineConfig(try Topology.parse(yaml: yaml, file: file))
    }

    /// Replaces the pipeline with one built for `config` that takes over the old one's state
    /// (`Pipeline.handOver()`), as the live switch does when its topology changes.
    public func replace(with config: PipelineConfig) {
        pipeline = Pipeline(config: config, pool: pipeline.context.pool, handover: pipeline.handOver())
    }

    /// The configuration the pipeline was built from.
    public var config: PipelineConfig { pipeline.config }

    /// The port named `name`; a name the topology lacks is a mistake in the test.
    public func port(_ name: String) -> PortID {
        guard let port = config.port(named: name) else { preconditionFailure("no port named \(name)") }
        return port
    }

    /// The name of `port`.
    public func name(of port: PortID) -> String {
        Int(port.rawValue) < config.ports.count ? config.ports[Int(port.rawValue)].name : "port \(port.rawValue)"
    }

    // MARK: Feeding

    /// Runs `bytes` alone through the pipeline, entering `port` at `seconds` past the clock's
    /// origin; returns what left during the run (also kept for `readOutbound`).
    @discardableResult
    public func feed(_ bytes: [UInt8], into port: String, at seconds: Double) -> [Output] {
        feed([Input(bytes, port: self.port(port), time: Self.time(seconds))])
    }

    /// Runs `inputs` through the pipeline in batches of up to `Batch.capacity` frames, in
    /// order; the clock follows the frames' timestamps unless `now` is given (live). Returns
    /// what left during the run (also kept for `readOutbound`).
    @discardableResult
    public func feed(_ inputs: [Input], now: Timestamp? = nil) -> [Output] {
        var recorder = Recorder()
        var index = 0
        while index < inputs.count {
            var batch = Batch()
            while !batch.isFull && index < inputs.count {
                var frame = pipeline.context.pool.take()
                inputs[index].bytes.withUnsafeBytes { frame.replaceContents(with: $0) }
                frame.originalLength = inputs[index].bytes.count
                frame.inputPort = inputs[index].port
                frame.timestamp = inputs[index].time
                frame.offload = inputs[index].offload
                batch.append(frame)
                index += 1
            }
            pipeline.process(&batch, into: &recorder, now: now)
        }
        let sent = recorder.sent.map { Output(port: $0.port, portName: name(of: $0.port), bytes: $0.bytes) }
        outbound += sent
        return sent
    }

    /// A timestamp `seconds` past the clock's origin (to the nanosecond).
    public static func time(_ seconds: Double) -> Timestamp {
        Timestamp(nanoseconds: Int64((seconds * 1_000_000_000).rounded()))
    }

    // MARK: Reading what was sent

    /// The first frame `port` sent that was not read yet, removed; nil when there is none.
    public func readOutbound(from port: String) -> [UInt8]? {
        guard let index = outbound.firstIndex(where: { $0.portName == port }) else { return nil }
        return outbound.remove(at: index).bytes
    }

    /// Every frame `port` sent that was not read yet, in order, removed.
    public func readAllOutbound(from port: String) -> [[UInt8]] {
        let frames = outbound.filter { $0.portName == port }.map(\.bytes)
        outbound.removeAll { $0.portName == port }
        return frames
    }

    /// Every frame sent that was not read yet, in the order sent, removed.
    @discardableResult
    public func drainOutbound() -> [Output] {
        defer { outbound.removeAll() }
        return outbound
    }

    /// The names of the ports that sent frames not read yet, each once, in port order.
    public var portsWithOutbound: [String] {
        Set(outbound.map(\.port.rawValue)).sorted().map { name(of: PortID(rawValue: $0)) }
    }

    // MARK: Counters

    /// The counters themselves.
    public var counters: PipelineCounters { pipeline.counters }

    /// The drops so far by reason name (`hairpin`, `no-route`, …); reasons with none left out.
    public var drops: [String: Int] {
        Dictionary(uniqueKeysWithValues: DropReason.allCases.compactMap { reason in
            let count = counters.dropped(reason)
            return count == 0 ? nil : (reason.name, count)
        })
    }

    /// The events so far by name (`fdb-learned`, `icmp-errors-sent`, …); events with none left out.
    public var events: [String: Int] {
        Dictionary(uniqueKeysWithValues: PipelineCounters.Event.allCases.compactMap { event in
            let count = counters.value(event)
            return count == 0 ? nil : (event.name, count)
        })
    }

    /// `name=count` for each entry, sorted by name and space-separated, or `none`.
    public static func summary(_ counts: [String: Int]) -> String {
        counts.isEmpty ? "none" : counts.sorted { $0.key < $1.key }.map { "\($0.key)=\($0.value)" }.joined(separator: " ")
    }
}
