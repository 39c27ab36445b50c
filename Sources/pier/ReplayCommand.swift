import ArgumentParser
import Dataplane
import PacketIO
import Wire

#if canImport(Glibc)
import Glibc
#endif

/// `pier replay [--config TOPO] --in PORT=FILE… --out PORT=FILE…`: runs captures through
/// the pipeline and writes each port's output to its file.
///
/// With `--config`, the topology's ports: captures enter at theirs, merged by timestamp, and
/// the bridge, local and route stages decide where each frame goes. Without it there is one
/// port, `p0`, and every frame passes through unchanged: same bytes, same timestamps, same
/// original lengths (any link type).
struct ReplayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Run captures through the pipeline; each port's output goes to its own file.")

    @Option(help: "The node's topology (YAML). Without it: one port p0, pass-through.")
    var config: String?

    @Option(name: .customLong("in"), help: ArgumentHelp(
        "PORT=FILE: frames of FILE enter at PORT. FILE alone (pcapng, with --config): each frame enters the port its interface's if_name names; frames flagged outbound are not fed.",
        valueName: "PORT=FILE|FILE"))
    var inputs: [ReplayInput] = []

    @Option(name: .customLong("map"), help: "IFNAME=PORT: frames of the capture's interface IFNAME enter at PORT (with --in FILE).")
    var maps: [InterfaceMap] = []

    @Option(name: .customLong("out"), help: "PORT=FILE: frames leaving PORT are written to FILE.")
    var outputs: [PortFile] = []

    @Flag(help: "Print each frame's path through the stages and its verdict.")
    var trace = false

    @Option(name: .customLong("out-all"), help: "FILE.pcapng: every port's output in one pcapng, an interface per port.")
    var outAll: String?

    @Option(name: .customLong("stats-json"), help: "Write the counters to FILE as JSON.")
    var statsJSON: String?

    @Flag(help: "Print the bridges' FDBs, the routes, the neighbours and the connections at the end.")
    var dump = false

    func validate() throws {
        guard !inputs.isEmpty else { throw ValidationError("give at least one --in PORT=FILE") }
        guard config == nil else { return }
        guard outAll == nil, maps.isEmpty else { throw ValidationError("--out-all and --map need --config") }
        for port in inputs.compactMap(\.port) + outputs.map(\.port) where port != "p0" {
            throw ValidationError("without --config the only port is p0, not '\(port)'")
        }
        guard inputs.count == 1, outputs.count <= 1 else {
            throw ValidationError("without --config, give one --in p0=FILE and at most one --out p0=FILE")
        }
    }

    func run() throws {
        if let config {
            try ConfiguredReplay(topologyPath: config, inputs: inputs, maps: maps, outputs: outputs, outAll: outAll,
                                 trace: trace, dump: dump, statsJSON: statsJSON).run()
            return
        }
        let input = inputs[0]
        let reader = try PcapReader(path: input.path)
        let writer = try outputs.first.map { output throws(CaptureError) in
            try PcapWriter(path: output.path, linkType: reader.linkType, precision: reader.precision,
                           snapLength: reader.snapLength)
        }
        let trace = self.trace  // read once: the property wrapper's getter is not free per frame
        var counters = ReplayCounters()
        let pool = FramePool(limit: Batch.capacity * 2, preallocated: Batch.capacity)
        var batch = Batch(keepsFrames: true)
        let started = ContinuousClock.now
        var damage: CaptureError?
        var finished = false
        while !finished {
            // Fill a batch from the capture.
            do {
                if try !reader.fill(&batch, pool: pool, port: PortID(rawValue: 0)) { finished = true }
            } catch {
                damage = error
                finished = true
            }
            counters.framesIn += batch.count
            for index in 0..<batch.count { counters.bytesIn += batch[index].count }
            // Pass-through: every frame leaves by p0.
            for index in 0..<batch.count {
                if trace { standardOutput("frame \(counters.framesOut + 1): in p0 -> out p0 (pass-through, no config)") }
                if let writer {
                    do { try writer.write(batch[index]) } catch { throw RuntimeFailure(message: error.description) }
                }
                counters.framesOut += 1
            }
            batch.recycleAll(into: pool)
        }
        if let writer {
            do { try writer.close() } catch { throw RuntimeFailure(message: error.description) }
        }
        counters.elapsed = ContinuousClock.now - started
        standardOutput(counters.summary(outputPath: outputs.first?.path))
        if let statsJSON { try writeStats(counters.json, to: statsJSON) }
        if let damage { throw damage }
    }
}
