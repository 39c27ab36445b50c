import Foundation
import Testing

/// `pier switch --io uring` against the Linux kernel: frames cross through the io_uring path
/// (batched reads and writes) as they do through epoll, in order, and a switch whose kernel
/// refuses io_uring (a seccomp filter) says so in one line and runs on epoll. Namespaces and
/// TAP devices start with `pu`; skipped, with the reason, when not root.
@Suite(.serialized, .enabled(if: Live.available, "live tests need root, ip, ping, python3 and /dev/net/tun"))
struct LiveUringTests {
    /// Ping both ways and to the gateway, 8 MB over TCP arriving SHA-256 identical, and 3,000
    /// numbered UDP datagrams sent as fast as Python goes that arrive in the order sent (some
    /// may be dropped by a full queue, none reordered); GRO's super-frames leave among the
    /// ring's writes. (Allocations on the frame path are the
    /// release build's to count: bench/live-io.sh prints them; a debug build allocates.)
    @Test func framesCrossInOrderThroughIoUring() throws {
        let topology = try LiveTopology(tag: "ur", containers: 2, subnet: 41, prefix: "pu")
        let live = try SwitchProcess(topology, extra: ["--io", "uring"])
        defer { live.stop() }
        #expect(live.log.contains("switch: io: io_uring"), "\(live.log)")
        for (from, to) in [(1, 2), (2, 1)] {
            let ping = try Live.exec(topology.namespace(from), ["ping", "-c", "3", "-i", "0.2", "-W", "2", topology.address(to)])
            #expect(ping.status == 0 && ping.stdout.contains("3 received"), "c\(from) -> c\(to): \(ping)")
        }
        let gateway = try Live.exec(topology.namespace(1), ["ping", "-c", "2", "-i", "0.2", "-W", "2", topology.gateway])
        #expect(gateway.status == 0 && gateway.stdout.contains("2 received"), "c1 -> gateway: \(gateway)")
        try transfer(topology, bytes: 8_000_000, port: 5041)
        let order = try numberedDatagrams(topology, count: 3_000, port: 5042)
        #expect(order.received > 1_500, "too few datagrams crossed: \(order)")
        #expect(order.reordered == 0, "datagrams of one flow overtook each other: \(order)")
        #expect(live.stop() == 0, "\(live.log)")
        // GRO (on by default) joined the transfer's segments behind the frames the ring queued.
        let c2 = try #require(PortStats.last("c2", in: live.log), "\(live.log)")
        #expect(c2["tx-coalesced"] > 0, "no super-frame was joined through the io_uring path: \(c2)")
    }

    /// A seccomp filter that fails io_uring_setup with ENOSYS: the switch logs one line that
    /// it runs on epoll, and frames cross.
    @Test(.enabled(if: Self.seccompWorks, "needs x86-64 (the filter names io_uring_setup by its number there)"))
    func refusedIoUringFallsBackToEpoll() throws {
        let topology = try LiveTopology(tag: "uf", containers: 2, subnet: 42, prefix: "pu")
        let python = try #require(Tool.find("python3"))
        let live = try SwitchProcess(config: topology.path, log: topology.directory.path("switch.log"), ports: 2,
                                     extra: ["--io", "uring"], launcher: [python, "-c", Self.withoutIoUring])
        defer { live.stop() }
        let fallback = live.log.split(separator: "\n").filter { $0.contains("io: epoll") }
        #expect(fallback == ["switch: io: epoll, one read and one write a frame (no io_uring: io_uring_queue_init: function not implemented)"],
                "\(live.log)")
        let ping = try Live.exec(topology.namespace(1), ["ping", "-c", "3", "-i", "0.2", "-W", "2", topology.address(2)])
        #expect(ping.status == 0 && ping.stdout.contains("3 received"), "\(ping)")
        #expect(live.stop() == 0, "\(live.log)")
    }

    /// io_uring_setup's number is x86-64's in the filter.
    static var seccompWorks: Bool {
        var name = utsname()
        uname(&name)
        return withUnsafeBytes(of: &name.machine) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) } == "x86_64"
    }

    /// `python3 -c WITHOUT PROGRAM ARGS…`: installs a seccomp filter that answers
    /// io_uring_setup (425 on x86-64) with ENOSYS, then runs PROGRAM.
    static let withoutIoUring = """
        import ctypes, os, struct, sys
        libc = ctypes.CDLL(None, use_errno=True)
        code = b"".join(struct.pack("HBBI", *i) for i in [
            (0x20, 0, 0, 0),                  # load the system call's number
            (0x15, 0, 1, 425),                # io_uring_setup?
            (0x06, 0, 0, 0x00050000 | 38),    # then fail it with ENOSYS
            (0x06, 0, 0, 0x7fff0000)])        # else allow
        filt = ctypes.create_string_buffer(code)
        prog = ctypes.create_string_buffer(struct.pack("HxxxxxxQ", 4, ctypes.addressof(filt)))
        assert libc.prctl(38, 1, 0, 0, 0) == 0   # PR_SET_NO_NEW_PRIVS
        assert libc.prctl(22, 2, prog, 0, 0) == 0  # PR_SET_SECCOMP, SECCOMP_MODE_FILTER
        os.execv(sys.argv[1], sys.argv[1:])
        """

    /// `python3 -c RECEIVE PORT COUNT`: prints how many numbered datagrams arrived and how
    /// many arrived after a higher number (until COUNT or 2 s of silence).
    static let receive = """
        import socket, struct, sys
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 8 << 20)
        s.bind(("0.0.0.0", int(sys.argv[1])))
        print("ready", flush=True)
        s.settimeout(5)
        got = reordered = 0
        last = -1
        try:
            while got < int(sys.argv[2]):
                n = struct.unpack("!I", s.recv(64)[:4])[0]
                got += 1
                if n < last: reordered += 1
                last = max(last, n)
                s.settimeout(2)
        except socket.timeout:
            pass
        print(got, reordered, flush=True)
        """

    /// `python3 -c SEND ADDRESS PORT COUNT`: sends COUNT 64-byte datagrams numbered 0…
    static let send = """
        import socket, struct, sys
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        for n in range(int(sys.argv[3])):
            s.sendto(struct.pack("!I", n) + bytes(60), (sys.argv[1], int(sys.argv[2])))
        """

    /// Sends `count` numbered datagrams from container 1 to container 2; what arrived.
    private func numberedDatagrams(_ topology: LiveTopology, count: Int, port: Int) throws -> (received: Int, reordered: Int) {
        let log = topology.directory.path("receive.log")
        let receiver = try Live.spawn(topology.namespace(2), ["python3", "-c", Self.receive, String(port), String(count)], log: log)
        defer { if receiver.isRunning { kill(receiver.processIdentifier, SIGKILL) } }
        let output = { (try? String(contentsOfFile: log, encoding: .utf8)) ?? "" }
        #expect(Live.wait(seconds: 5) { output().contains("ready") }, "receiver: \(output())")
        let sender = try Live.exec(topology.namespace(1), ["python3", "-c", Self.send, topology.address(2), String(port), String(count)])
        #expect(sender.status == 0, "sender: \(sender)")
        receiver.waitUntilExit()
        let numbers = output().split(separator: "\n").last?.split(separator: " ").compactMap { Int($0) } ?? []
        guard numbers.count == 2 else { Issue.record("receiver: \(output())"); return (0, 0) }
        return (numbers[0], numbers[1])
    }

    /// Sends `bytes` random bytes from container 1 to container 2 over TCP; checks they arrive identical.
    private func transfer(_ topology: LiveTopology, bytes: Int, port: Int) throws {
        let data = topology.directory.path("data")
        try writeRandomFile(data, count: bytes)
        let received = topology.directory.path("received")
        let server = try Live.spawn(topology.namespace(2), ["python3", "-c", Scripts.sink, String(port), received],
                                    log: topology.directory.path("server.log"))
        Thread.sleep(forTimeInterval: 0.3)
        let client = try Live.exec(topology.namespace(1), ["python3", "-c", Scripts.send, topology.address(2), String(port), data])
        #expect(client.status == 0, "sender: \(client)")
        server.waitUntilExit()
        #expect(try Live.sha256(received) == Live.sha256(data))
    }
}
