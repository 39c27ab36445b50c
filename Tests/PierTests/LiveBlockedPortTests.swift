import Foundation
import Testing

/// A port whose TAP writes would block, forced for real: `pier switch` keeps forwarding between
/// two containers while every write to a third port fails with EAGAIN, counts each refused
/// frame as `tx-blocked`, keeps the port up, and sends to it again once the kernel lets go.
///
/// How the kernel can refuse a TAP write (drivers/net/tun.c, tun_get_user): a small frame on a
/// non-blocking descriptor whose socket send buffer is the default INT_MAX (set in
/// tun_chr_open) goes through tun_build_skb, which never looks at the send buffer, so it is
/// never refused; with any other send buffer (TUNSETSNDBUF) the frame goes through
/// tun_alloc_skb -> sock_alloc_send_pskb, which returns -EAGAIN while the skbs already written
/// and still alive (charged to the descriptor's socket) reach the send buffer. A skb stays
/// alive when the kernel behind the TAP holds it without orphaning it: here a kernel bridge
/// forwards the port's frames to a veth whose qdisc (tbf at 1 byte a second) keeps them.
/// Pier never sets a send buffer itself, so the test sets 1 byte on Pier's own descriptor of
/// that port from outside (pidfd_getfd, then TUNSETSNDBUF), as QEMU's `sndbuf=` does.
///
/// Namespaces, TAP devices, the bridge and the veth start with `ptb`; skipped, with the
/// reason, when not root or when `tc`, the kernel bridge, veth or tbf is missing.
@Suite(.serialized, .enabled(if: BlockedPort.available, "needs root, ip, tc, python3, a kernel bridge, veth and tbf"))
struct LiveBlockedPortTests {
    /// 20 frames flooded to the slow port with the default send buffer are all written (the
    /// qdisc holds them); with one byte, the next 20 are all refused, exactly (nothing else is
    /// flooded there: IPv6 off, neighbours static), while c1 and c2 ping each other; after the
    /// qdisc lets go, 20 more are all written.
    @Test func blockedPortCountsEveryRefusedWriteWhileOthersForward() throws {
        let setup = try BlockedPort()
        defer { setup.cleanUp() }
        let live = try SwitchProcess(config: setup.config, log: setup.directory.path("switch.log"), ports: 3,
                                     namespace: BlockedPort.node, extra: ["--stats-interval", "1"])
        defer { if live.process.isRunning { live.stop() } }
        // Pier learns both containers' MACs; the phantom's stays unknown, so its frames are
        // flooded to c2 and to the slow port, whose kernel bridge hands them to the held qdisc.
        try pingBothWays(count: 2)
        let phantoms = 20
        try setup.sendPhantoms(phantoms)
        let before = try settledStats(live)
        #expect(before.blocked == 0 && before.sent >= phantoms,
                "the default send buffer (INT_MAX) never refuses a write, even with frames held: \(before)")
        #expect(try setup.heldFrames() >= 1, "the qdisc holds none of the slow port's frames")

        // One byte of send buffer on Pier's descriptor: every write now meets held skbs.
        let sndbuf = try setup.setSendBuffer(pid: live.process.processIdentifier, bytes: 1)
        #expect(sndbuf.lines == ["sndbuf ptbslow 1"], "\(sndbuf)")
        let sender = try LiveProgram(BlockedPort.namespace(1), ["python3", "-c", Scripts.phantoms, BlockedPort.phantom, String(phantoms)],
                                     log: setup.directory.path("phantoms.log"))
        try pingBothWays(count: 10)
        #expect(sender.finish() == 0, "\(sender.output)")
        let blocked = try settledStats(live)
        #expect(blocked.sent == before.sent, "a write went through while the kernel held the port's frames: \(blocked)")
        #expect(blocked.blocked == phantoms, "every flooded phantom is one refused write: \(before) -> \(blocked)")
        #expect(blocked.up, "\(blocked)")

        // The kernel lets go of the held frames: writes to the port succeed again.
        try setup.releaseHeldFrames()
        try setup.sendPhantoms(phantoms)
        let after = try settledStats(live)
        #expect(after.sent == blocked.sent + phantoms && after.blocked == blocked.blocked, "\(blocked) -> \(after)")
        #expect(live.stop() == 0, "\(live.log)")
        #expect(!live.log.contains("port slow: down"), "a refused write is not a failed port: \(live.log)")
        // The kernel's own count of frames written into the TAP: every success, no EAGAIN
        // counted as a drop (tun_get_user counts drops only for errors other than -EAGAIN).
        let final = try #require(PortStats.last("slow", in: live.log))
        #expect(try setup.tapCounter("rx_packets") == final.sent, "\(final)")
        #expect(try setup.tapCounter("rx_dropped") == 0)
        // The pipeline's own count of frames it gave the port: each one either written or refused.
        let summary = live.log.split(separator: "\n").first { $0.hasPrefix("  slow: in ") } ?? ""
        let handed = summary.components(separatedBy: ", out ").last?.split(separator: " ").first.flatMap { Int($0) }
        #expect(handed == final.sent + final.blocked, "\(summary) vs \(final)")
    }

    /// Pings c1 -> c2 and c2 -> c1, `count` each, every one answered.
    private func pingBothWays(count: Int) throws {
        for (from, to) in [(1, 2), (2, 1)] {
            let ping = try Live.exec(BlockedPort.namespace(from),
                                     ["ping", "-c", String(count), "-i", "0.1", "-W", "2", BlockedPort.address(to)])
            #expect(ping.status == 0 && ping.stdout.contains("\(count) received"), "c\(from) -> c\(to): \(ping)")
        }
    }

    /// The slow port's counters from a stats line printed after a whole second without
    /// traffic from the test (the switch prints one each second).
    private func settledStats(_ live: SwitchProcess) throws -> PortStats {
        let printed = live.log.components(separatedBy: "switch: stats: ").count
        let settled = Live.wait(seconds: 5) { live.log.components(separatedBy: "switch: stats: ").count >= printed + 2 }
        #expect(settled, "no stats line: \(live.log)")
        return try #require(PortStats.last("slow", in: live.log), "\(live.log)")
    }
}

/// The topology: containers c1 and c2 (namespaces `ptb-c1`, `ptb-c2`, made by `pier up`) and a
/// port `slow` whose TAP `ptbslow` sits in the switch's own namespace `ptb-sw`, on a kernel
/// bridge with a veth end whose qdisc holds what it is given. IPv6 is off and neighbours are
/// static in every namespace, so the only frames flooded to `slow` are the test's own.
final class BlockedPort {
    static let node = "ptb-sw"
    static let phantom = "172.31.40.99"
    let directory: TemporaryDirectory
    let config: String

    /// Namespace of container `n`.
    static func namespace(_ n: Int) -> String { "ptb-c\(n)" }
    /// Address of container `n`.
    static func address(_ n: Int) -> String { "172.31.40.\(n + 1)" }

    /// Whether the test can run here; says why not on stderr.
    static let available: Bool = {
        guard Live.available else { return false }
        if let missing = Tool.missing(tools: ["tc"]) {
            FileHandle.standardError.write(Data("blocked-port test skipped: it \(missing)\n".utf8))
            return false
        }
        return kernelHasParts()
    }()

    /// Makes the namespaces, the slow port's bridge and held qdisc, and the containers.
    init() throws {
        directory = try TemporaryDirectory()
        config = directory.path("blocked.yaml")
        try """
            node: ptb-sw
            ports:
              - {name: c1, tap: ptbc1}
              - {name: c2, tap: ptbc2}
              - {name: slow, tap: ptbslow}
            bridges:
              - {name: br0, ports: [c1, c2, slow], ip: 172.31.40.1/24, mac: 02:42:ac:1f:28:01}
            containers:
              - {name: ptb-c1, port: c1, ip: 172.31.40.2/24}
              - {name: ptb-c2, port: c2, ip: 172.31.40.3/24}
            """.write(toFile: config, atomically: true, encoding: .utf8)
        cleanUp()
        let node = Self.node
        try Live.ipAll([
            ["netns", "add", node],
            ["netns", "exec", node, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1"],
            ["-n", node, "link", "add", "ptbbr", "type", "bridge"],
            ["-n", node, "link", "set", "ptbbr", "up"],
            // br_netfilter (when built in) hands bridged IPv4 to iptables, which frees the
            // frame's hold on the TAP's socket: the qdisc would hold frames that count for nothing.
            ["netns", "exec", node, "sh", "-c", "f=/proc/sys/net/bridge/bridge-nf-call-iptables; [ ! -e $f ] || echo 0 > $f"],
            ["-n", node, "link", "add", "ptbv0", "type", "veth", "peer", "name", "ptbv1"],
            ["-n", node, "link", "set", "ptbv0", "master", "ptbbr", "up"],
            ["-n", node, "link", "set", "ptbv1", "up"],
            ["-n", node, "tuntap", "add", "dev", "ptbslow", "mode", "tap"],
            ["-n", node, "link", "set", "ptbslow", "master", "ptbbr", "up"],
        ])
        try tc(["qdisc", "add", "dev", "ptbv0", "root", "tbf", "rate", "8bit", "burst", "1600", "limit", "1000000"])
        let up = try Tool.pier("up", config)
        #expect(up.status == 0, "pier up: \(up)")
        try quietContainers()
    }

    /// IPv6 off and static neighbours (each other, the phantom) in both containers.
    private func quietContainers() throws {
        let macs = try (1...2).map { try Live.mac(of: Self.namespace($0)) }
        for n in 1...2 {
            let ns = Self.namespace(n)
            try Live.ipAll([
                ["netns", "exec", ns, "sysctl", "-qw", "net.ipv6.conf.all.disable_ipv6=1", "net.ipv6.conf.default.disable_ipv6=1"],
                ["-n", ns, "neigh", "replace", Self.address(3 - n), "lladdr", macs[2 - n], "dev", "eth0", "nud", "permanent"],
                ["-n", ns, "neigh", "replace", Self.phantom, "lladdr", "02:00:00:00:00:99", "dev", "eth0", "nud", "permanent"],
            ])
        }
    }

    /// Removes what `init` made (also the leftovers of an interrupted run).
    func cleanUp() {
        _ = try? Tool.pier("down", config)
        _ = try? Live.ip("netns", "delete", Self.node)
    }

    /// Sends `count` datagrams from c1 to the phantom (its MAC is known to nobody: flooded).
    func sendPhantoms(_ count: Int) throws {
        let sent = try Live.exec(Self.namespace(1), ["python3", "-c", Scripts.phantoms, Self.phantom, String(count)])
        #expect(sent.status == 0 && sent.lines == ["sent \(count)"], "\(sent)")
    }

    /// Frames the slow port's qdisc holds (`backlog … Np`).
    func heldFrames() throws -> Int {
        let shown = try tc(["-s", "qdisc", "show", "dev", "ptbv0"])
        let words = shown.stdout.split(whereSeparator: { $0 == " " || $0 == "\n" })
        guard let index = words.firstIndex(of: "backlog"), index + 2 < words.count else { return 0 }
        return Int(words[index + 2].dropLast()) ?? 0
    }

    /// Removes the holding qdisc: the kernel frees the frames it held.
    func releaseHeldFrames() throws {
        try tc(["qdisc", "del", "dev", "ptbv0", "root"])
    }

    /// Sets the send buffer of process `pid`'s descriptor of `ptbslow` to `bytes`.
    func setSendBuffer(pid: Int32, bytes: Int) throws -> Tool.Result {
        try Tool.run(try #require(Tool.find("python3")), ["-c", Scripts.setSendBuffer, String(pid), "ptbslow", String(bytes)])
    }

    /// A counter of `ptbslow` as the kernel keeps it (`/sys/class/net/ptbslow/statistics/NAME`).
    func tapCounter(_ name: String) throws -> Int {
        let text = try Live.exec(Self.node, ["cat", "/sys/class/net/ptbslow/statistics/\(name)"]).stdout
        return try #require(Int(text.trimmingCharacters(in: .whitespacesAndNewlines)), "\(name): \(text)")
    }

    /// Runs `tc arguments…` in the switch's namespace, expecting success.
    @discardableResult
    private func tc(_ arguments: [String]) throws -> Tool.Result {
        let result = try Tool.run(try #require(Tool.find("tc")), ["-n", Self.node] + arguments)
        #expect(result.status == 0, "tc \(arguments.joined(separator: " ")): \(result)")
        return result
    }

    /// Whether the kernel can make a bridge, a veth pair and a tbf qdisc, tried in a namespace
    /// made for the purpose; when not, says which on stderr.
    private static func kernelHasParts() -> Bool {
        guard let ip = Tool.find("ip"), let tc = Tool.find("tc") else { return false }
        let ns = "ptb-probe\(getpid() % 1000)"
        _ = try? Tool.run(ip, ["netns", "add", ns])
        defer { _ = try? Tool.run(ip, ["netns", "delete", ns]) }
        let parts: [(String, String, [String])] = [
            ("a kernel bridge (CONFIG_BRIDGE)", ip, ["-n", ns, "link", "add", "ptbprobebr", "type", "bridge"]),
            ("veth (CONFIG_VETH)", ip, ["-n", ns, "link", "add", "ptbprobe0", "type", "veth", "peer", "name", "ptbprobe1"]),
            ("the tbf qdisc (CONFIG_NET_SCH_TBF)", tc, ["-n", ns, "qdisc", "add", "dev", "ptbprobe0", "root", "tbf",
                                                       "rate", "8bit", "burst", "1600", "limit", "10000"]),
        ]
        for (name, tool, arguments) in parts where (try? Tool.run(tool, arguments))?.status != 0 {
            FileHandle.standardError.write(Data("blocked-port test skipped: this kernel has no \(name)\n".utf8))
            return false
        }
        return true
    }
}

extension Scripts {
    /// `python3 -c PHANTOMS HOST COUNT`: sends COUNT datagrams of 1,000 bytes to HOST:9 (UDP),
    /// 20 ms apart; prints `sent COUNT`.
    static let phantoms = """
        import socket, sys, time
        udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        count = int(sys.argv[2])
        for _ in range(count):
            udp.sendto(bytes(1000), (sys.argv[1], 9))
            time.sleep(0.02)
        print("sent", count)
        """

    /// `python3 -c SET_SEND_BUFFER PID DEVICE BYTES`: takes a copy of process PID's descriptor
    /// of TAP DEVICE (found by its /proc fdinfo, `iff:`) with pidfd_getfd, sets that socket's
    /// send buffer with TUNSETSNDBUF, and prints `sndbuf DEVICE N` as TUNGETSNDBUF reads it back.
    static let setSendBuffer = """
        import ctypes, fcntl, os, struct, sys
        TUNSETSNDBUF, TUNGETSNDBUF, SYS_PIDFD_GETFD = 0x400454d4, 0x800454d3, 438
        pid, device, size = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
        libc = ctypes.CDLL(None, use_errno=True)
        libc.syscall.restype = ctypes.c_long
        pidfd = os.pidfd_open(pid)
        for name in sorted(os.listdir("/proc/%d/fd" % pid), key=int):
            try:
                if os.readlink("/proc/%d/fd/%s" % (pid, name)) != "/dev/net/tun":
                    continue
                with open("/proc/%d/fdinfo/%s" % (pid, name)) as info:
                    if "iff:\\t%s\\n" % device not in info.read():
                        continue
            except OSError:
                continue
            fd = libc.syscall(SYS_PIDFD_GETFD, pidfd, int(name), 0)
            if fd < 0:
                raise OSError(ctypes.get_errno(), "pidfd_getfd")
            fcntl.ioctl(fd, TUNSETSNDBUF, struct.pack("i", size))
            now = struct.unpack("i", fcntl.ioctl(fd, TUNGETSNDBUF, bytes(4)))[0]
            print("sndbuf", device, now)
            os.close(fd)
        """
}
