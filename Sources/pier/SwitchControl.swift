import CTap
import Dataplane
import Foundation
import PacketIO
import Synchronization
import Topology

/// The running switch's control (DESIGN.md, "Control protocol"): answers the requests of
/// `pier fdb`, `conntrack`, `get`, `apply` and `delete` on the control socket, and re-reads the
/// configuration on SIGHUP.
///
/// A change is parsed, merged and validated whole, and its pipeline configuration built, on a
/// worker thread (one change at a time, in the order they came); the loop thread then hands the
/// old pipeline's state to a new one, swaps it in between two batches, opens the ports the
/// change added and closes those it removed, logs one line per change, and answers. Forwarding
/// never waits for a parse. A change that fails validation changes nothing.
final class SwitchControl: ControlHandler, @unchecked Sendable {
    /// The switch it controls (set once the switch is made).
    unowned(unsafe) var live: LiveSwitch<TapPort>!
    /// The topology file, and what it said when last read (SIGHUP applies the difference).
    private let configPath: String
    private var fileTopology: Topology
    /// The worker's view: the topology after every change accepted so far (some may still be
    /// on their way to the loop).
    private var accepted: (topology: Topology, slots: PortSlots)
    private let worker = DispatchQueue(label: "pier.switch.control")
    /// How TAP ports are opened (`--offload`, `--tunnel-gso`, `--gro`).
    private let tapOptions: TapOptions
    /// The switch's log.
    private let log: SwitchLog
    /// Told of every change tried: whether it was applied and how long it took, in seconds.
    var onApply: ((Bool, Double) -> Void)?
    /// The latest peers etcd's leases make, not yet taken by the worker (`overlay.etcd`).
    private let leasedPending = Mutex<(peers: [OverlayPeer], since: DispatchTime)?>(nil)
    /// Told (on the loop thread) when leased peers are in force: how many, and when etcd's
    /// watcher handed them over.
    var onLeasedPeers: ((Int, DispatchTime) -> Void)?

    /// The control of a switch running `topology` with `slots`: what `configPath` said (`file`)
    /// and what was applied over it at start (the CNI plugin's attachments).
    init(topology: Topology, file: Topology, slots: PortSlots, configPath: String, tapOptions: TapOptions, log: SwitchLog) {
        self.configPath = configPath
        fileTopology = file
        accepted = (topology, slots)
        self.tapOptions = tapOptions
        self.log = log
    }

    // MARK: Requests

    func refusal(_ problem: String) -> String { ControlJSON.error(problem) }

    func handle(_ request: String, reply: @escaping (String, Bool) -> Void) {
        let trimmed = request.trimmingCharacters(in: .whitespaces)
        guard trimmed.hasPrefix("{") else {
            // The first protocol: a table's name, answered with its lines, then the end.
            return reply(ControlSocket.answer(trimmed, pipeline: live.pipeline).joined(separator: "\n"), true)
        }
        let mailbox = live.mailbox
        let started = DispatchTime.now()
        nonisolated(unsafe) let reply = reply
        // Even decoding the JSON of a big change happens off the loop thread.
        worker.async { [self] in
            let result: Answer
            do {
                result = try answer(to: try ControlRequest(json: trimmed), started: started)
            } catch {
                let problem = (error as? ControlRequest.Failure)?.problem ?? (error as? ConfigError)?.description ?? "\(error)"
                result = .done(ControlJSON.error(problem))
                if (error as? ConfigError) != nil { reportApply(ok: false, since: started) }
            }
            mailbox.post { [self] in
                switch result {
                case .done(let text): reply(text, false)
                case .onLoop(let work): reply(work(self), false)
                }
            }
        }
    }

    /// What a request's answer is: known on the worker, or made on the loop thread.
    private enum Answer {
        case done(String)
        case onLoop((SwitchControl) -> String)
    }

    /// Answers `request` on the worker thread.
    private func answer(to request: ControlRequest, started: DispatchTime) throws -> Answer {
        switch request.operation {
        case .version:
            return .done(ControlJSON.ok([("version", .integer(Int64(ControlRequest.version)))]))
        case .table(let name):
            return .onLoop { control in
                // The clock brought up to date, so the tables leave out what has aged out.
                control.live.pipeline.context.now = Timestamp(nanoseconds: pier_monotonic_ns())
                let lines = ControlSocket.answer(name, pipeline: control.live.pipeline)
                return ControlJSON.ok([("lines", ControlJSON.strings(lines))])
            }
        case .get(let kind, let json):
            let text = json ? accepted.topology.json(kind) : accepted.topology.yaml(kind)
            return .done(ControlJSON.ok([("text", .string(text))]))
        case .port(let name):
            return .onLoop { control in control.portState(name) }
        case .apply(let yaml, let file):
            let (next, changes) = try accepted.topology.applying(yaml: yaml, file: file)
            return change(to: next, changes: changes, started: started)
        case .delete(let kind, let name):
            let (next, changes) = try accepted.topology.deleting(kind, name: name)
            return change(to: next, changes: changes, started: started)
        }
    }

    // MARK: Peers from etcd

    /// Puts the peers of etcd's leases in force (any thread): the worker merges them with the
    /// file's peers and the switch swaps its pipeline as for `pier apply`. Lists that arrive
    /// while the worker is busy are coalesced: only the latest is applied. A list that does not
    /// validate as a whole is applied one peer at a time, each peer that cannot be added logged
    /// and left out.
    func setLeasedPeers(_ peers: [OverlayPeer]) {
        let idle = leasedPending.withLock { pending in
            defer { pending = (peers, pending?.since ?? .now()) }
            return pending == nil
        }
        guard idle else { return }
        let mailbox = live.mailbox
        worker.async { [self] in
            guard let (peers, since) = leasedPending.withLock({ $0.take() }) else { return }
            var refused: [String] = []
            var wanted = peers
            var result: (topology: Topology, changes: [TopologyChange]) = (accepted.topology, [])
            while true {
                do throws(LeasedPeerRefusal) {
                    result = try accepted.topology.replacingLeasedPeers(wanted)
                    break
                } catch {
                    // Leave the peer with the problem out and try again.
                    guard let node = error.node, let bad = wanted.firstIndex(where: { $0.node == node }) else {
                        refused.append("etcd leases not applied, peers unchanged: \(error.problem.problem)")
                        result = (accepted.topology, [])
                        break
                    }
                    let peer = wanted.remove(at: bad)
                    let line = "etcd lease \(peer.lease?.key ?? peer.node) ignored: \(error.problem.problem)"
                    if refusedLogged.insert(line).inserted { refused.append(line) }
                }
            }
            let answer = change(to: result.topology, changes: result.changes, started: since, summarize: true)
            let count = result.topology.overlay?.peers.count { $0.lease != nil } ?? 0
            mailbox.post { [self] in
                for line in refused { log(.warning, line) }
                if case .onLoop(let work) = answer { _ = work(self) }
                onLeasedPeers?(count, since)
            }
        }
    }

    /// The problems of leased peers logged so far (worker thread), each logged once.
    private var refusedLogged = Set<String>()

    /// Accepts `next` (valid) and answers once it is in force; with `summarize`, more than a
    /// few changes are logged as counts.
    private func change(to next: Topology, changes: [TopologyChange], started: DispatchTime, summarize: Bool = false) -> Answer {
        let listed = ControlJSON.ok([("changes", ControlJSON.strings(changes.map(\.description)))])
        guard !changes.isEmpty else {
            reportApply(ok: true, since: started)
            return .done(listed)
        }
        let nextSlots = PortSlots(next, keeping: accepted.slots)
        // Everything the change needs is made here, on the worker: the loop only swaps it in.
        let config = PipelineConfig(next, slots: nextSlots)
        let prepared = PreparedTables(config)
        nonisolated(unsafe) let wanted = SwitchCommand.tapPorts(next, config: config, slots: nextSlots, options: tapOptions)
        accepted = (next, nextSlots)
        return .onLoop { control in
            control.install(wanted, prepared: prepared, changes: changes, summarize: summarize)
            control.reportApply(ok: true, since: started)
            return listed
        }
    }

    /// Tells `onApply` (on the loop thread) how a change went.
    private func reportApply(ok: Bool, since started: DispatchTime) {
        guard let onApply else { return }
        let seconds = Double(DispatchTime.now().uptimeNanoseconds - started.uptimeNanoseconds) / 1e9
        live.mailbox.post { onApply(ok, seconds) }
    }

    // MARK: Putting a change in force (loop thread)

    /// Swaps in the pipeline of `prepared` with the running one's state, then closes the live
    /// ports that are not in `wanted` (or are there with another device or number) and opens
    /// the ones that are new.
    private func install(_ wanted: [TapPort], prepared: PreparedTables, changes: [TopologyChange], summarize: Bool) {
        let old = live.pipeline
        live.replace(pipeline: Pipeline(prepared: prepared, pool: old.context.pool, handover: old.handOver()))
        // The old pipeline (its configuration: 10,000 Services' arrays) is freed on the worker.
        nonisolated(unsafe) let retired = old
        worker.async { _ = retired }
        let running = Dictionary(uniqueKeysWithValues: live.ports.map { ($0.name, $0) })
        let wantedNames = Set(wanted.map(\.name))
        for (name, port) in running where !wantedNames.contains(name) { live.remove(port.port) }
        for port in wanted {
            if let current = running[port.name] {
                guard current.location != port.location || current.port != port.port else { continue }
                live.remove(current.port)
            }
            live.add(port)
        }
        if summarize, changes.count > Self.changesLogged {
            for change in changes.prefix(Self.changesLogged) { log(.notice, "change: " + change.description) }
            let counts = Dictionary(grouping: changes.dropFirst(Self.changesLogged), by: \.action.rawValue)
                .sorted { $0.key < $1.key }.map { "\($0.value.count) \($0.key)" }
            log(.notice, "change: and \(counts.joined(separator: ", ")) more")
        } else {
            for change in changes { log(.notice, "change: " + change.description) }
        }
    }

    /// How many changes of a summarized change are logged one by one.
    private static let changesLogged = 10

    /// `{"ok":true,"state":"up"}` (or `waiting`, `down`) for the port named `name`.
    private func portState(_ name: String) -> String {
        guard let port = live.ports.first(where: { $0.name == name }) else {
            return ControlJSON.error("no live port \(name) (a port needs a tap: to be served)")
        }
        let state = port.isUp ? (port.linkDown ? "link-down" : "up") : "down"
        return ControlJSON.ok([("state", .string(state)), ("location", .string(port.location.description))])
    }

    // MARK: SIGHUP

    /// Re-reads the configuration and applies what changed in it since it was last read;
    /// objects that left the file are removed, ones added by `pier apply` stay. A file that
    /// does not load changes nothing (logged).
    func reload() {
        let mailbox = live.mailbox
        let started = DispatchTime.now()
        worker.async { [self] in
            do {
                guard let data = FileManager.default.contents(atPath: configPath) else {
                    throw ConfigError(file: configPath, line: 0, path: "", problem: "cannot be read")
                }
                let (next, new, changes) = try accepted.topology.reloading(from: fileTopology, yaml: String(decoding: data, as: UTF8.self),
                                                                           file: configPath)
                fileTopology = new
                let answer = change(to: next, changes: changes, started: started)
                mailbox.post { [self] in
                    if case .onLoop(let work) = answer { _ = work(self) }
                    log(.notice, "reloaded \(configPath): \(changes.isEmpty ? "no change" : "\(changes.count) changes")")
                }
            } catch {
                let problem = (error as? ConfigError)?.description ?? "\(error)"
                reportApply(ok: false, since: started)
                mailbox.post { [self] in log(.error, "reload of \(configPath) refused, nothing changed: \(problem)") }
            }
        }
    }
}
