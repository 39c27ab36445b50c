import Foundation
import Testing

/// The Linux kernel as the oracle for a whole node, end to end (issue 17): fixtures/kernel_import.py
/// builds a Docker-like node in network namespaces (bridge pkobr0 with two containers on veths
/// pkov1 and pkov2, uplink pkoeth0 to an outside host; Docker's MASQUERADE, DOCKER chain and
/// published port 8080 → 172.31.0.2:80), runs pings, a container's TCP connection and UDP
/// exchange to the outside, a bridged ping between the containers and the outside's connection
/// to the published port, captures all the node's interfaces into one pcapng with
/// `dumpcap -i pkoeth0 -i pkov1 -i pkov2` inside the node, and imports the node with
/// `pier import --netns pkonode`. Pier replays the capture through the imported topology with
/// no `--map` (its ports are named as the capture's interfaces), and what its `--out-all` holds
/// for each port must be what the kernel sent out of that interface, decoded field by field.
///
/// What the kernel sent out of an interface: dumpcap on Linux flags no direction, so a frame
/// on an interface is taken as sent by the node when its source MAC is not the MAC of the host
/// at the far end of that veth (the outside host, or the container) — known here from the
/// setup, independently of Pier's own direction rule.
///
/// Not compared: timestamps, the interfaces' order and ids in the two files, direction flags
/// (Pier flags its frames outbound, dumpcap flags none), and frames that are not IPv4 (the
/// display filter is `ip and not igmp`: ARP and IPv6 on either side, though the namespaces have
/// IPv6 off and static neighbours so that the kernel sends neither; and the IGMP membership
/// reports the kernel sends of its own accord when an interface comes up, whose timing is its
/// own and which are no answer to anything in the capture). Fields Linux may pick freely — the IP
/// identification of a packet it originates, MASQUERADE's source port when two flows clash,
/// checksums left partial by veth offloads — are compared all the same, because here they are
/// not free: every frame compared is forwarded (the node originates none), no two flows clash,
/// and offloads are off, so every checksum is on the wire.
struct KernelImportReplayTests {
    static let skipped = Tool.missing(tools: ["ip", "iptables-restore", "ethtool", "dumpcap", "tshark", "python3"])

    /// The host at the far end of each of the node's interfaces: the frames it sent entered the
    /// node, every other frame on the interface left it.
    static let farEnd = ["pkoeth0": "02:00:c0:a8:4f:01", "pkov1": "02:42:ac:1f:00:02", "pkov2": "02:42:ac:1f:00:03"]

    /// The fields compared, after `frame.interface_name`.
    static let fields = [
        "frame.len", "eth.src", "eth.dst", "ip.src", "ip.dst", "ip.ttl", "ip.id", "ip.len", "ip.proto", "ip.checksum.status",
        "tcp.srcport", "tcp.dstport", "tcp.flags", "tcp.seq_raw", "tcp.ack_raw", "tcp.len", "tcp.checksum.status",
        "udp.srcport", "udp.dstport", "udp.length", "udp.checksum.status",
        "icmp.type", "icmp.code", "icmp.ident", "icmp.seq", "icmp.checksum.status",
    ]

    /// `file`'s IPv4 frames but IGMP by interface (the display filter `ip and not igmp`), each frame as its compared fields (`field=value`),
    /// keeping those `keep(interface, sourceMAC)` accepts.
    static func frames(_ file: String, keep: (String, String) -> Bool = { _, _ in true }) throws -> [String: [String]] {
        var byInterface: [String: [String]] = [:]
        for frame in try Tool.tsharkFields(file, ["frame.interface_name"] + fields) {
            let interface = frame[0].first ?? "?"
            let values = Dictionary(uniqueKeysWithValues: zip(fields, frame.dropFirst().map { $0.joined(separator: ",") }))
            guard values["ip.src"]?.isEmpty == false, values["ip.proto"] != "2", keep(interface, values["eth.src"] ?? "") else { continue }
            byInterface[interface, default: []].append(fields.map { "\($0)=\(values[$0] ?? "")" }.joined(separator: " "))
        }
        return byInterface
    }

    /// How Pier's output (`pier` by port) differs from what the kernel sent (`kernel` by
    /// interface): one line per interface whose frame count differs, one per frame that differs.
    static func differences(pier: [String: [String]], kernel: [String: [String]]) -> [String] {
        var found: [String] = []
        for interface in Set(pier.keys).union(kernel.keys).sorted() {
            let (mine, theirs) = (pier[interface] ?? [], kernel[interface] ?? [])
            if mine.count != theirs.count { found.append("\(interface): Pier sent \(mine.count) IPv4 frames, Linux \(theirs.count)") }
            for (index, (ours, linux)) in zip(mine, theirs).enumerated() where ours != linux {
                found.append("\(interface) frame \(index + 1):\n  Pier:  \(ours)\n  Linux: \(linux)")
            }
        }
        return found
    }

    /// Replays `capture` through the topology at `topology` (no `--map`) and returns how its
    /// per-port output differs from `kernel`.
    static func replayDifferences(_ capture: String, topology: String, kernel: [String: [String]],
                                  in directory: TemporaryDirectory, named name: String) throws -> [String] {
        let output = directory.path("\(name).pcapng")
        let replay = try Tool.pier("replay", "--config", topology, "--in", capture, "--out-all", output)
        #expect(replay.status == 0, "\(replay)")
        return differences(pier: try frames(output), kernel: kernel)
    }

    @Test(.enabled(if: skipped == nil, "the kernel import-and-replay oracle \(skipped ?? "") (network namespaces pko*)"))
    func dockerLikeNodeReplaysAsLinuxForwarded() throws {
        let directory = try TemporaryDirectory()
        let script = Paths.packageRoot.appendingPathComponent("fixtures/kernel_import.py").path
        let pier = try #require(Paths.pier, "the pier binary was not found")
        let kernelRun = try Tool.run(try #require(Tool.find("python3")), [script, directory.path("kernel"), pier])
        try #require(kernelRun.status == 0, "\(kernelRun)")
        let capture = directory.path("kernel/capture.pcapng"), topology = directory.path("kernel/node.yaml")
        // Docker's rules are all understood: nothing to warn about.
        #expect(try String(contentsOfFile: directory.path("kernel/import.stderr"), encoding: .utf8).isEmpty)

        let kernel = try Self.frames(capture) { interface, source in Self.farEnd[interface] != source }
        // pkoeth0: 2 masqueraded echoes, 5 or more masqueraded TCP segments, the UDP query,
        // 5 or more answers from the published port; pkov1: 2 echo replies, 2 bridged echo
        // requests… — enough on each interface that a wrong translation shows.
        #expect((kernel["pkoeth0"]?.count ?? 0) >= 13, "\(kernel)")
        #expect((kernel["pkov1"]?.count ?? 0) >= 12, "\(kernel)")
        #expect((kernel["pkov2"]?.count ?? 0) >= 3, "\(kernel)")
        let found = try Self.replayDifferences(capture, topology: topology, kernel: kernel, in: directory, named: "out")
        #expect(found.isEmpty, "\(found.joined(separator: "\n"))")

        // The comparison can fail: a topology whose published port goes to the other container
        // (as a wrong import would write it) sends the outside's connection out of pkov2.
        let imported = try String(contentsOfFile: topology, encoding: .utf8)
        let wrong = imported.replacingOccurrences(of: "to: 172.31.0.2:80", with: "to: 172.31.0.3:80")
        try #require(wrong != imported, "\(imported)")
        let wrongTopology = try directory.write(Array(wrong.utf8), to: "wrong.yaml")
        let wrongFound = try Self.replayDifferences(capture, topology: wrongTopology, kernel: kernel, in: directory, named: "wrong")
        #expect(wrongFound.contains { $0.hasPrefix("pkov1: Pier sent") } && wrongFound.contains { $0.hasPrefix("pkov2: Pier sent") },
                "\(wrongFound.joined(separator: "\n"))")
    }
}
