import Dataplane
import Inspect
import PacketIO
import Topology
import Wire

/// `pier replay --config TOPO`: captures enter the topology's ports, merged by timestamp, run
/// through the pipeline with the capture's clock, and each port's output goes to its file.
struct ConfiguredReplay {
    var topologyPath: String
    var inputs: [ReplayInput]
    var maps: [InterfaceMap]
    var outputs: [PortFile]
    var outAll: String?
    var trace: Bool
    var dump: Bool
    var statsJSON: String?

    /// Writes each port's frames to its capture, if it has one.
    struct CaptureSink: FrameSink {
        /// The writers, kept alive here.
        private(set) var writers: [PcapWriter] = []
        /// Each port's writer, read per frame without a retain and release (which cost more
        /// than the record's copy); `writers` keeps them alive.
        private var portWriters: [Unmanaged<PcapWriter>?]
        /// `--out-all`: every port's frames, as that port's interface.
        private(set) var allWriter: PcapNGWriter?
        private var all: Unmanaged<PcapNGWriter>?
        var failure: CaptureError?

        init(portCount: Int) { portWriters = Array(repeating: nil, count: portCount) }

        /// Sends every port's frames to `writer`, whose interface N is port N.
        mutating func attachAll(_ writer: PcapNGWriter) {
            allWriter = writer
            all = Unmanaged.passUnretained(writer)
        }

        /// Sends port `port`'s frames to `writer`.
        mutating func attach(_ writer: PcapWriter, to port: PortID) {
            writers.append(writer)
            portWriters[Int(port.rawValue)] = Unmanaged.passUnretained(writer)
        }

        mutating func send(_ frame: borrowing Frame, to port: PortID) {
            if all != nil { sendToAll(frame, from: port) }
            guard failure == nil, let writer = portWriters[Int(port.rawValue)] else { return }
            let outcome = writer._withUnsafeGuaranteedRef { writer in
                Result { () throws(CaptureError) in try writer.write(frame) }
            }
            if case .failure(let error) = outcome { failure = error }
        }

        /// `--out-all`: the frame as sent by interface `port`. Out of line, so that `send`
        /// stays as small as it was without it.
        @inline(never)
        private mutating func sendToAll(_ frame: borrowing Frame, from port: PortID) {
            guard failure == nil, let all else { return }
            let outcome = all._withUnsafeGuaranteedRef { writer in
                Result { () throws(CaptureError) in try writer.write(frame, interface: Int(port.rawValue), direction: .outbound) }
            }
            if case .failure(let error) = outcome { failure = error }
        }
    }

    /// The input side: the merged captures, numbering frames as they come.
    final class Source {
        let merger: CaptureMerger
        let pool: FramePool
        let config: PipelineConfig
        var sequence = 0
        var damage: CaptureError?
        var finished = false
        /// Decides the direction of frames of captures that flag none (`--in FILE`).
        var guess: DirectionGuess?
        /// Trace header lines of frames read but not yet traced.
        var headers: [Int: String] = [:]
        let trace: Bool

        init(merger: CaptureMerger, pool: FramePool, config: PipelineConfig, trace: Bool) {
            self.merger = merger
            self.pool = pool
            self.config = config
            self.trace = trace
        }

        /// Fills `batch` with the next frames; sets `finished` at the end or at damage.
        func fill(_ batch: inout Batch) {
            let first = batch.count
            do {
                if guess != nil {
                    try fillInbound(&batch)
                } else if try !merger.fill(&batch, pool: pool) {
                    finished = true
                }
            } catch {
                damage = error
                finished = true
            }
            for index in first..<batch.count { number(&batch[index]) }
        }

        /// Fills `batch` with the next frames `guess` judges inbound (the others go back to
        /// their slot); sets `finished` at the end. Damage after some frames were added is
        /// thrown by the next call (as `CaptureMerger.fill` does).
        private func fillInbound(_ batch: inout Batch) throws(CaptureError) {
            while !batch.isFull {
                let added = try batch.refill(from: pool) { frame throws(CaptureError) in
                    while try merger.next(into: &frame) {
                        if guess?.isOutbound(frame) == false { return true }
                    }
                    return false
                }
                if !added {
                    finished = true
                    return
                }
            }
        }

        /// Numbers a frame just read, and notes its trace header.
        private func number(_ frame: inout Frame) {
            sequence += 1
            frame.number = sequence
            if trace {
                let port = config.ports[Int(frame.inputPort.rawValue)].name
                let time = CaptureTime.format(frame.timestamp.nanoseconds)
                headers[sequence] = "frame \(sequence): in \(port) at \(time), \(frame.count) bytes"
            }
        }
    }

    func run() throws {
        let topology: Topology
        do { topology = try Topology.load(path: topologyPath) } catch { throw InputError(message: error.description) }
        let config = PipelineConfig(topology)
        var readers: [(port: PortID, reader: PcapReader)] = []
        var guessDirections = false
        for input in inputs {
            guard let port = input.port else {
                let byInterface = try InterfaceInputs(path: input.path, config: config, maps: maps, topologyPath: topologyPath)
                readers += byInterface.readers
                guessDirections = guessDirections || byInterface.needsGuess
                continue
            }
            let reader = try PcapReader(path: input.path)
            guard reader.linkType == .ethernet else {
                throw InputError(message: "\(input.path): link type \(reader.linkType): only Ethernet captures can enter a port")
            }
            readers.append((try config.portID(port, option: "--in", topologyPath: topologyPath), reader))
        }
        let anyNanoseconds = readers.contains { input in input.reader.precision == TimestampPrecision.nanoseconds }
        try outputs.requireDistinctFiles(option: "--out")
        var sink = CaptureSink(portCount: config.ports.count)
        for output in outputs {
            let id = try config.portID(output.port, option: "--out", topologyPath: topologyPath)
            do {
                sink.attach(try PcapWriter(
                    path: output.path, linkType: .ethernet, precision: anyNanoseconds ? .nanoseconds : .microseconds), to: id)
            } catch { throw RuntimeFailure(message: error.description) }
        }
        if let outAll {
            do {
                sink.attachAll(try PcapNGWriter(path: outAll, interfaces: config.ports.map { ($0.name, LinkType.ethernet) }))
            } catch { throw RuntimeFailure(message: error.description) }
        }

        let pool = FramePool(limit: Batch.capacity * 4, preallocated: Batch.capacity)
        let pipeline = Pipeline(config: config, pool: pool)
        if trace { pipeline.context.tracer = Tracer() }
        let source = Source(merger: try CaptureMerger(inputs: readers), pool: pool, config: config, trace: trace)
        if guessDirections { source.guess = DirectionGuess(config: config) }
        let started = ContinuousClock.now
        try runLoop(source: source, pipeline: pipeline, sink: &sink)
        do {
            for writer in sink.writers { try writer.close() }
            try sink.allWriter?.close()
        } catch { throw RuntimeFailure(message: error.description) }
        let report = ReplayReport(pipeline: pipeline, elapsed: ContinuousClock.now - started)
        standardOutput(report.summary)
        let flagged = readers.reduce(0) { $0 + $1.reader.outboundSkipped }
        if flagged > 0 { standardOutput("  outbound, not fed: \(flagged) frames flagged outbound (epb_flags)") }
        if let guess = source.guess {
            standardOutput("  outbound, not fed: \(guess.outbound) frames (no direction flags: the node's own source MAC, or one last seen entering another port)")
        }
        if dump { standardOutput(report.dump) }
        if let statsJSON { try writeStats(report.json, to: statsJSON) }
        if let damage = source.damage { throw damage }
    }

    /// Batches in, pipeline, outputs out, until the inputs end.
    private func runLoop(source: Source, pipeline: Pipeline, sink: inout CaptureSink) throws {
        var batch = Batch(keepsFrames: true)
        while !source.finished {
            source.fill(&batch)
            pipeline.process(&batch, into: &sink)
            if let tracer = pipeline.context.tracer { printTrace(tracer.drain(), headers: &source.headers) }
            if let failure = sink.failure { throw RuntimeFailure(message: failure.description) }
        }
    }

    /// Prints the notes of one batch, each frame's under its header line.
    private func printTrace(_ notes: [(frame: Int, text: String)], headers: inout [Int: String]) {
        // Notes come stage by stage over the batch; show them frame by frame (Pier's own, 0, last).
        let ordered = notes.enumerated().sorted { lhs, rhs in
            let left = lhs.element.frame == 0 ? Int.max : lhs.element.frame
            let right = rhs.element.frame == 0 ? Int.max : rhs.element.frame
            return (left, lhs.offset) < (right, rhs.offset)
        }.map(\.element)
        var lastFrame = -1
        for note in ordered {
            if note.frame != lastFrame {
                lastFrame = note.frame
                if let header = headers.removeValue(forKey: note.frame) {
                    standardOutput(header)
                } else if note.frame == 0 {
                    standardOutput("pier:")
                }
            }
            standardOutput("  " + note.text)
        }
    }
}
