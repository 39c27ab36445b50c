import Foundation
import Testing
#if canImport(Glibc)
import Glibc
#endif

/// The Linux kernel's own VXLAN device as the other node (issue 5, "Checked by"). Network
/// namespace `pov-k` is node-a as flannel would set it up (veth `pov-k0` with the node IP
/// 192.168.1.25 and node-a's uplink MAC; VXLAN device `pov-vx`, VNI 1, port 8472, with the
/// VTEP MAC 02:aa:00:00:00:01 and 10.244.1.0/32; the route, neighbour and FDB entries flannel
/// writes for node-b); its veth peer `pov-w0` sits in `pov-w`, the wire where Pier's frames
/// are injected. Pier plays node-b with fixtures/topologies/node-b.yaml.
///
/// 1. The kernel pings 10.244.2.7 through its VXLAN device; tcpdump captures what leaves
///    `pov-k0`; Pier decaps that capture and delivers the echo requests to pod1.
/// 2. Pier encapsulates a pod's pings to 10.244.1.0 (fixtures/overlay/pod-b-pings.pcap); a raw
///    socket puts them on the wire; the kernel's VXLAN device accepts them and its echo replies
///    come back (captured on `pov-w0`), and Pier decaps those replies to the pod too.
///
/// Every packet stays inside the two namespaces. Skipped unless root with ip, bridge, tcpdump,
/// tshark, editcap and python3.
@Suite(.serialized)
struct KernelVXLANTests {
    static let skipped = Tool.missing(tools: ["ip", "bridge", "tcpdump", "tshark", "editcap", "python3"])

    /// Sends every record of a classic pcap out of an interface through an AF_PACKET socket.
    static let injector = """
        import socket, struct, sys
        data = open(sys.argv[1], "rb").read()
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW)
        s.bind((sys.argv[2], 0))
        offset = 24
        while offset < len(data):
            length = struct.unpack("<I", data[offset + 8:offset + 12])[0]
            s.send(data[offset + 16:offset + 16 + length])
            offset += 16 + length
        """

    @discardableResult
    static func sh(_ tool: String, _ arguments: String...) throws -> Tool.Result {
        let result = try Tool.run(try #require(Tool.find(tool)), arguments)
        #expect(result.status == 0, "\(tool) \(arguments.joined(separator: " ")): \(result)")
        return result
    }

    static func setUp() throws {
        tearDown()
        try sh("ip", "netns", "add", "pov-k")
        try sh("ip", "netns", "add", "pov-w")
        try sh("ip", "link", "add", "pov-k0", "type", "veth", "peer", "name", "pov-w0")
        try sh("ip", "link", "set", "pov-k0", "netns", "pov-k")
        try sh("ip", "link", "set", "pov-w0", "netns", "pov-w")
        try sh("ip", "-n", "pov-k", "link", "set", "pov-k0", "address", "02:00:c0:a8:01:19")
        try sh("ip", "-n", "pov-k", "addr", "add", "192.168.1.25/24", "dev", "pov-k0")
        try sh("ip", "-n", "pov-k", "link", "set", "pov-k0", "up")
        try sh("ip", "-n", "pov-w", "link", "set", "pov-w0", "up")
        // node-b's uplink, as ARP would have found it.
        try sh("ip", "-n", "pov-k", "neigh", "add", "192.168.1.30", "lladdr", "02:00:c0:a8:01:1e", "dev", "pov-k0", "nud", "permanent")
        // flannel.1: `ip link add … type vxlan id 1 dstport 8472`, then flannel's entries for node-b.
        try sh("ip", "-n", "pov-k", "link", "add", "pov-vx", "type", "vxlan", "id", "1", "dstport", "8472",
               "local", "192.168.1.25", "dev", "pov-k0", "nolearning")
        try sh("ip", "-n", "pov-k", "link", "set", "pov-vx", "address", "02:aa:00:00:00:01")
        try sh("ip", "-n", "pov-k", "addr", "add", "10.244.1.0/32", "dev", "pov-vx")
        try sh("ip", "-n", "pov-k", "link", "set", "pov-vx", "up")
        try sh("ip", "-n", "pov-k", "route", "add", "10.244.2.0/24", "via", "10.244.2.0", "dev", "pov-vx", "onlink")
        try sh("ip", "-n", "pov-k", "neigh", "add", "10.244.2.0", "lladdr", "02:aa:00:00:00:02", "dev", "pov-vx", "nud", "permanent")
        try sh("bridge", "-n", "pov-k", "fdb", "append", "02:aa:00:00:00:02", "dev", "pov-vx", "dst", "192.168.1.30")
    }

    static func tearDown() {
        for namespace in ["pov-k", "pov-w"] {
            guard let ip = Tool.find("ip") else { return }
            _ = try? Tool.run(ip, ["netns", "del", namespace])  // may not exist: a partial setup
        }
    }

    /// Runs `command` (a shell command line) inside `namespace` while tcpdump captures VXLAN
    /// on `interface` there into `file`. The shell starts tcpdump, waits for it to listen,
    /// runs the command, then stops tcpdump by its PID. SIGKILL, because processes started
    /// from the test runner inherit a signal mask that blocks SIGTERM; `-U` has already
    /// written every packet to the file.
    static func capturing(_ namespace: String, _ interface: String, to file: String, while command: String) throws -> Tool.Result {
        let tcpdump = try #require(Tool.find("tcpdump"))
        let script = """
            \(tcpdump) -i \(interface) -U -w '\(file)' udp port 8472 2>/dev/null & capture=$!
            sleep 1
            \(command)
            status=$?
            sleep 0.5
            kill -KILL $capture
            wait $capture
            exit $status
            """
        return try Tool.run(try #require(Tool.find("ip")), ["netns", "exec", namespace, "/bin/sh", "-c", script])
    }

    @Test(.enabled(if: KernelVXLANTests.skipped == nil, "the kernel VXLAN test \(KernelVXLANTests.skipped ?? "")"))
    func pierAndTheKernelVXLANDeviceUnderstandEachOther() throws {
        try Self.setUp()
        defer { Self.tearDown() }
        let directory = try TemporaryDirectory()
        let config = ScenarioTests.topology("node-b")

        // 1. The kernel encapsulates; Pier decapsulates.
        let fromKernel = directory.path("kernel-pings.pcap")
        let ping = try Self.capturing("pov-k", "pov-k0", to: fromKernel, while: "ping -c 3 -i 0.2 -W 1 10.244.2.7")
        #expect(ping.stdout.contains("3 packets transmitted"), "\(ping)")
        let kernelFrames = try Tool.tsharkFields(fromKernel, ["vxlan.vni", "ip.src", "ip.dst", "icmp.type", "icmp.seq", "data.data"])
        #expect(kernelFrames.count == 3)
        #expect(kernelFrames.allSatisfy { $0[0] == ["1"] && $0[1] == ["192.168.1.25", "10.244.1.0"] && $0[3] == ["8"] })
        let decapped = directory.path("pod1-requests.pcap")
        let first = try Tool.pier(["replay", "--config", config, "--in", "eth0=\(fromKernel)", "--out", "pod1=\(decapped)"])
        #expect(first.status == 0, "\(first)")
        let delivered = try Tool.tsharkFields(decapped, ["eth.dst", "ip.src", "ip.dst", "ip.ttl", "icmp.type", "icmp.seq", "data.data"])
        #expect(delivered.count == 3)
        for (pod, kernel) in zip(delivered, kernelFrames) {
            #expect(pod[0] == ["0a:58:0a:f4:02:07"])
            #expect(pod[1] == ["10.244.1.0"] && pod[2] == ["10.244.2.7"] && pod[3] == ["63"] && pod[4] == ["8"])
            #expect(pod[5] == kernel[4] && pod[6] == kernel[5], "the echo request's sequence and data arrive unchanged")
        }
        try ScenarioTests.expectChecksumsGood(decapped)

        // 2. Pier encapsulates; the kernel accepts and answers.
        let toKernel = directory.path("pier-pings.pcap")
        let second = try Tool.pier(["replay", "--config", config,
                                    "--in", "pod1=\(OverlayTests.overlayCapture("pod-b-pings"))", "--out", "eth0=\(toKernel)"])
        #expect(second.status == 0, "\(second)")
        let wire = directory.path("wire.pcap")
        let injectorFile = try directory.write(Array(Self.injector.utf8), to: "inject.py")
        let injected = try Self.capturing("pov-w", "pov-w0", to: wire,
                                          while: "\(try #require(Tool.find("python3"))) '\(injectorFile)' '\(toKernel)' pov-w0 && sleep 0.5")
        #expect(injected.status == 0, "\(injected)")
        let exchanged = try Tool.tsharkFields(wire, ["ip.src", "ip.dst", "icmp.type", "icmp.seq", "vxlan.vni"])
        let replies = exchanged.filter { $0[2] == ["0"] }
        #expect(replies.map { $0[3] } == [["1"], ["2"], ["3"]], "the kernel answered each of Pier's encapsulated pings")
        #expect(replies.allSatisfy { $0[0] == ["192.168.1.25", "10.244.1.0"] && $0[1] == ["192.168.1.30", "10.244.2.7"] && $0[4] == ["1"] })

        // And Pier decapsulates the kernel's replies for the pod. Its connection tracker takes
        // an echo reply only for a request it saw: the pod's pings go in again, moved in time
        // to just before the captured replies (replay's clock is the captures' timestamps).
        let answered = directory.path("pod1-replies.pcap")
        let wireStart = try #require(Tool.tsharkFields(wire, ["frame.time_epoch"]).first?.first?.first.flatMap { Double($0) })
        let pings = OverlayTests.overlayCapture("pod-b-pings")
        let pingsStart = try #require(Tool.tsharkFields(pings, ["frame.time_epoch"]).first?.first?.first.flatMap { Double($0) })
        let pingsNow = directory.path("pod-b-pings-now.pcap")
        try Self.sh("editcap", "-t", String(format: "%.6f", wireStart - pingsStart - 1), pings, pingsNow)
        let third = try Tool.pier(["replay", "--config", config, "--in", "pod1=\(pingsNow)", "--in", "eth0=\(wire)",
                                   "--out", "pod1=\(answered)"])
        #expect(third.status == 0, "\(third)")
        let atPod = try Tool.tsharkFields(answered, ["icmp.type", "icmp.seq", "ip.dst"])
        #expect(atPod.filter { $0[0] == ["0"] }.map { $0[1] } == [["1"], ["2"], ["3"]])
    }
}
