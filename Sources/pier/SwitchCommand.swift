import ArgumentParser
import CAllocCounter
import CTap
import Dataplane
import EtcdDiscovery
import Foundation
import PacketIO
import Topology

#if canImport(Glibc)
import Glibc
#endif

/// `pier switch --config TOPO`: the live TAP-backed switch. Every port with a `tap:` is
/// served by its TAP device: inside the container's namespace as `eth0` when a container of
/// the topology uses the port (`pier up` put it there), else in the switch's own namespace by
/// its `tap:` name. Runs until SIGINT or SIGTERM, then flushes the captures and prints the
/// counters. `pier fdb` and `pier conntrack` read its tables through `/run/pier/NODE.sock`.
struct SwitchCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "switch",
        abstract: "Run the topology live over TAP devices until SIGINT or SIGTERM.")

    @Option(help: "The node's topology (YAML).")
    var config: String

    @Option(name: .customLong("capture"), help: "PORT=FILE: write the port's traffic (both ways) to FILE as pcap.")
    var captures: [PortFile] = []

    @Option(name: .customLong("stats-interval"), help: "Print the port counters every S seconds (0: only at the end).")
    var statsInterval = 0

    @Flag(help: "Print the bridges' FDBs, the routes, the neighbours and the connections at the end.")
    var dump = false

    @Option(help: "ADDRESS:PORT: serve Prometheus metrics at http://ADDRESS:PORT/metrics (127.0.0.1:9100).")
    var metrics: String?

    @Flag(help: "Open the TAP devices with offloads (IFF_VNET_HDR): TCP segments of up to 64 KB cross whole, checksums partial.")
    var offload = false

    @Option(name: .customLong("tunnel-gso"), help: "With --offload and a vxlan overlay: auto (ask the uplink's TAP device for UDP-tunnel GSO, Linux 6.17+) or off (Pier segments what enters the tunnel).")
    var tunnelGSO = "auto"

    @Option(help: "on (a batch's consecutive TCP segments of one flow are written to a port as one super-frame, as Linux's GRO hands its stack one packet; the TAP devices get a virtio-net header even without --offload) or off.")
    var gro = "on"

    @Option(name: .customLong("io"), help: "uring (a batch of reads or writes in one io_uring call; epoll when the kernel refuses) or epoll (one read and one write a frame).")
    var io: LiveIOMode = .epoll

    @Option(name: .customLong("busy-poll"), help: "USEC: after each event keep polling, without sleeping, until USEC microseconds pass without one (0: off). Lower latency, one CPU kept busy meanwhile.")
    var busyPoll = 0

    @Option(name: .customLong("log-format"), help: "text (switch: … lines) or json (one object a line, for machines).")
    var logFormat: LogFormat = .text

    @Option(name: .customLong("control-group"), help: "A group whose members may use the control socket too (default: root only).")
    var controlGroup: String?

    @Option(name: .customLong("cni-state"), help: "Where the CNI plugin records its attachments (DIR/NODE/*.json), re-attached at start.")
    var cniState: String = CNIAttachments.defaultDirectory

    func validate() throws {
        guard statsInterval >= 0 else { throw ValidationError("--stats-interval must be 0 or more seconds") }
        if let metrics { _ = try Self.metricsAddress(metrics) }
        guard ["auto", "off"].contains(tunnelGSO) else { throw ValidationError("--tunnel-gso must be auto or off, not \(tunnelGSO)") }
        guard busyPoll >= 0 else { throw ValidationError("--busy-poll must be 0 or more microseconds") }
        guard ["on", "off"].contains(gro) else { throw ValidationError("--gro must be on or off, not \(gro)") }
    }

    func run() throws {
        var fileTopology: Topology
        do { fileTopology = try Topology.load(path: config) } catch { throw InputError(message: error.description) }
        // Signals are taken by the loop's signalfd; threads started from here on inherit the mask.
        _ = pier_block_switch_signals()
        let log = SwitchLog(format: logFormat)
        // overlay.etcd: the pod subnet is leased before the pipeline is built.
        var etcd: EtcdOverlay?
        if fileTopology.overlay?.etcd != nil {
            let loaded = fileTopology
            let (overlay, leased) = try Self.waitFor { () async throws(EtcdOverlay.Failure) in
                try await EtcdOverlay.start(loaded, log: { log(.notice, "etcd: " + $0) })
            }
            etcd = overlay
            fileTopology = leased
        }
        // The containers the CNI plugin attached before a restart, over the file's topology.
        let (topology, restored) = CNIAttachments(root: cniState, node: fileTopology.node).restore(into: fileTopology) { log(.warning, $0) }
        if restored > 0 { log(.notice, "re-attached \(restored) CNI attachments from \(cniState)/\(fileTopology.node)") }
        let slots = PortSlots(topology)
        let pipelineConfig = PipelineConfig(topology, slots: slots)
        let tapOptions = TapOptions(offloads: offload, tunnelGSO: tunnelGSO == "auto", coalesce: gro == "on")
        let ports = Self.tapPorts(topology, config: pipelineConfig, slots: slots, options: tapOptions)
        guard !ports.isEmpty else { throw InputError(message: "\(config): no port has a tap: device to serve") }
        var writers: [PortID: PcapWriter] = [:]
        try captures.requireDistinctFiles(option: "--capture")
        for capture in captures {
            let id = try pipelineConfig.portID(capture.port, option: "--capture", topologyPath: config)
            do {
                writers[id] = try PcapWriter(path: capture.path, linkType: .ethernet, precision: .microseconds)
            } catch { throw RuntimeFailure(message: error.description) }
        }
        // A process that may not open /dev/net/tun cannot serve anything: say so once.
        guard access("/dev/net/tun", R_OK | W_OK) == 0 else {
            throw RuntimeFailure(message: "/dev/net/tun: \(systemMessage(errno)) (pier switch needs root or CAP_NET_ADMIN)")
        }
        let pool = FramePool(limit: Batch.capacity * 8, preallocated: offload ? 0 : Batch.capacity * 2)
        if offload {
            // Segments of up to 64 KB: every frame in the pool can hold one (34 MB in all).
            for _ in 0..<pool.limit { pool.recycle(Frame(capacity: Frame.headroom + 65_536 + 256)) }
        }
        let pipeline = Pipeline(config: pipelineConfig, pool: pool)
        let controlPath = ControlSocket.path(node: topology.node)
        mkdir(ControlSocket.directory, 0o755)
        let group = try controlGroup.map { name throws -> gid_t in
            guard let entry = getgrnam(name) else { throw InputError(message: "--control-group: no group named \(name)") }
            return entry.pointee.gr_gid
        }
        let control = SwitchControl(topology: topology, file: fileTopology, slots: slots, configPath: config, tapOptions: tapOptions,
                                    log: log)
        let server = ControlServer(path: controlPath, group: group, handler: control)
        let live = LiveSwitch(
            pipeline: pipeline, ports: ports, captures: writers, statsInterval: statsInterval, control: server,
            log: { log($0, $1) }, allocationCount: { pier_allocation_count() }, io: io, busyPollMicroseconds: busyPoll)
        control.live = live
        live.onHangup = { control.reload() }
        let mailbox = live.mailbox
        etcd?.run(peers: { control.setLeasedPeers($0) }, log: { line in mailbox.post { log(.notice, "etcd: " + line) } })
        control.onLeasedPeers = { count, since in
            let milliseconds = Double(DispatchTime.now().uptimeNanoseconds - since.uptimeNanoseconds) / 1e6
            log(.info, "etcd: \(count) leased peers in force (\(String(format: "%.1f", milliseconds)) ms after etcd told)")
        }
        log(.info, "node \(topology.node), \(ports.count) ports, control socket \(controlPath)"
                   + (tapOptions.coalesce ? ", GRO on" : ""))
        let metricsServer = try metrics.map { try Self.serveMetrics($0, live: live, log: log) }
        defer { metricsServer?.shutdown() }
        control.onApply = { ok, seconds in
            metricsServer?.recordApply(ok: ok, seconds: seconds)
            live.onTick?()  // the counters as the change left them, at once
        }
        let allocationsBefore = pier_allocation_count()
        do { try live.run() } catch { throw RuntimeFailure(message: error.description) }
        // The lease stays (flanneld's way): a node that comes back takes its subnet again.
        if let etcd { _ = try? Self.waitFor { () async throws(EtcdOverlay.Failure) in await etcd.stop() } }
        let allocations = pier_allocation_count() - allocationsBefore
        let report = ReplayReport(pipeline: live.pipeline, elapsed: .zero)
        log(.info, "stopped")
        log(.info, live.statsLine())
        for line in report.summary.split(separator: "\n").dropFirst() { standardOutput(String(line)) }
        // On the frame path (read, pipeline, write), and in all (log lines, control requests too).
        let received = live.ports.reduce(0) { $0 + $1.counters.received }
        standardOutput("  allocations: \(live.framePathAllocations) on the frame path over \(received) frames received, \(allocations) in all while running")
        for (port, writer) in writers.sorted(by: { $0.key.rawValue < $1.key.rawValue }) {
            standardOutput("  capture \(live.pipeline.config.ports[Int(port.rawValue)].name): \(writer.recordsWritten) frames -> \(writer.path)")
        }
        if dump { standardOutput(report.dump) }
    }

    /// Runs `work` on Swift's concurrency threads and waits for it (start-up and shutdown of
    /// `overlay.etcd`, before and after the loop).
    static func waitFor<Value: Sendable>(_ work: @escaping @Sendable () async throws(EtcdOverlay.Failure) -> Value) throws(RuntimeFailure) -> Value {
        let done = DispatchSemaphore(value: 0)
        nonisolated(unsafe) var result: Result<Value, EtcdOverlay.Failure>?
        Task {
            do throws(EtcdOverlay.Failure) { result = .success(try await work()) } catch { result = .failure(error) }
            done.signal()
        }
        done.wait()
        switch result {
        case .success(let value)?: return value
        case .failure(let failure)?: throw RuntimeFailure(message: "overlay.etcd: \(failure.description)")
        case nil: throw RuntimeFailure(message: "overlay.etcd: no answer")
        }
    }

    /// The TAP port of every topology port with a `tap:`, numbered by `slots`: in the
    /// namespace of the container that uses it (as `eth0`), in its `netns:` by its `tap:`
    /// name, else local. With offloads every device passes TSO segments; with a vxlan overlay
    /// and `tunnelGSO` the uplink's device is asked for UDP-tunnel GSO too, so a 64 KB
    /// segment crosses the tunnel whole. A super-frame a device cannot take (IP-in-IP, flannel
    /// UDP, an uplink without tunnel GSO) is segmented by Pier as it leaves. With `coalesce`,
    /// writes to every device join TCP segments (GRO).
    /// `config` is `topology`'s pipeline configuration with `slots` (made once by the caller:
    /// with 10,000 Services it is most of a change's cost).
    static func tapPorts(_ topology: Topology, config: PipelineConfig, slots: PortSlots, options: TapOptions) -> [TapPort] {
        var uplink: PortID?
        if let overlay = config.overlay, overlay.encapsulation == .vxlan,
           case .port(let port) = config.interfaces[overlay.uplink].attachment { uplink = port }
        let ids = slots.ids
        return topology.ports.compactMap { port in
            guard let tap = port.tap, let id = ids[port.name] else { return nil }
            let container = topology.containers.first { $0.port == port.name && $0.mode == .bridge }
            let location: TapPort.Location = container.map { .namespace($0.name, device: "eth0") }
                ?? port.netns.map { .namespacePath($0, device: tap) } ?? .local(device: tap)
            return TapPort(port: id, name: port.name, location: location, offloads: options.offloads,
                           tunnelSegmentation: options.tunnelGSO && id == uplink, coalesces: options.coalesce)
        }
    }
}
