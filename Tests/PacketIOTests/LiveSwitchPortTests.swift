import Dataplane
import Foundation
import PierBench
@testable import PacketIO
import Testing
import Wire

#if canImport(Glibc)
import Glibc
#endif

/// The live loop over a kind of port that needs no root: each port one end of a datagram
/// socket pair, the test holding the other end. Ports are added once the loop runs and
/// removed between batches, as `pier apply` will do.
struct LiveSwitchPortTests {
    /// A port whose "device" is one end of a socket pair; the test reads and writes `peer`.
    final class PairPort: LivePort {
        typealias Output = PairOutput
        let port: PortID
        let name: String
        let location: String
        private(set) var descriptor: Int32 = -1
        /// The test's end.
        let peer: Int32
        private let end: Int32
        var linkDown = false
        var goneReason: String? { nil }
        var counters = LivePortCounters()
        var isUp: Bool { descriptor >= 0 }

        init(_ number: UInt16, name: String) {
            port = PortID(rawValue: number)
            self.name = name
            location = "pair \(number)"
            var ends: [Int32] = [-1, -1]
            let made = socketpair(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue), 0, &ends)
            precondition(made == 0, "socketpair: \(errno)")
            (end, peer) = (ends[0], ends[1])
        }

        deinit {
            close()
            _ = Glibc.close(peer)
        }

        func open() -> Int32 {
            descriptor = end
            return 0
        }

        func close() {
            guard descriptor >= 0 else { return }
            _ = Glibc.close(descriptor)
            descriptor = -1
        }

        func receive(into batch: inout Batch, from pool: FramePool, now: Timestamp, captures: inout LiveCaptures) -> Int32 {
            batch.fill(from: pool) { frame in
                let count = frame.receive { Glibc.read(descriptor, $0.baseAddress, $0.count) }
                guard count > 0 else { return count < 0 && errno != EAGAIN ? .failed(errno) : .drained }
                frame.inputPort = port
                frame.timestamp = now
                counters.received += 1
                return .frame
            }
        }

        /// The frames waiting at the test's end.
        func frames() -> [[UInt8]] {
            var frames: [[UInt8]] = []
            var buffer = [UInt8](repeating: 0, count: 2_048)
            while true {
                let count = buffer.withUnsafeMutableBytes { Glibc.read(peer, $0.baseAddress, $0.count) }
                guard count > 0 else { return frames }
                frames.append(Array(buffer[0..<count]))
            }
        }

        /// Sends `bytes` into the switch from this port's side.
        func inject(_ bytes: [UInt8]) {
            _ = bytes.withUnsafeBytes { Glibc.write(peer, $0.baseAddress, $0.count) }
        }
    }

    /// Writes frames to the pair ports.
    struct PairOutput: LiveOutput {
        var ports: [PortID: PairPort] = [:]
        var captures: LiveCaptures
        var events = LiveOutputEvents()

        init(captures: LiveCaptures) { self.captures = captures }
        mutating func attach(_ port: PairPort) { ports[port.port] = port }
        mutating func detach(_ port: PortID) { ports[port] = nil }

        mutating func send(_ frame: borrowing Frame, to port: PortID) {
            guard let pair = ports[port], pair.isUp else { return }
            _ = frame.withUnsafeBytes { Glibc.write(pair.descriptor, $0.baseAddress, $0.count) }
            pair.counters.sent += 1
        }
    }

    static let station = MACAddress(0x02, 0, 0, 0, 0, 0x0a)

    /// A frame from `source` to `destination`.
    static func frame(from source: MACAddress, to destination: MACAddress) -> [UInt8] {
        SyntheticFrames.tcp(sourceMAC: source, destinationMAC: destination, source: IPv4Address(10, 0, 0, 1),
                            destination: IPv4Address(10, 0, 0, 2), sourcePort: 1_000, destinationPort: 80)
    }

    /// Polls `live` until `done` holds (or half a second passes).
    static func poll(_ live: LiveSwitch<PairPort>, batch: inout Batch, until done: () -> Bool) throws {
        var tokens = [UInt64](repeating: 0, count: 64)
        for _ in 0..<50 where !done() { try live.poll(&batch, tokens: &tokens, timeout: 10) }
    }

    @Test func portsAddedAndRemovedBetweenBatches() throws {
        let ids = (0..<3).map { PortID(rawValue: UInt16($0)) }
        let config = PipelineConfig(ports: ids.map { PipelineConfig.Port(name: "p\($0.rawValue)", bridge: 0) },
                                    bridges: [PipelineConfig.Bridge(name: "br0", ports: ids, fdbCapacity: 64)])
        let pipeline = Pipeline(config: config, pool: FramePool(limit: 256, preallocated: 0))
        var lines: [String] = []
        let live = LiveSwitch<PairPort>(pipeline: pipeline, ports: [], captures: [:], statsInterval: 0, control: nil,
                                        log: { lines.append($1) })
        try live.start()
        var batch = Batch(keepsFrames: true)
        let a = PairPort(0, name: "p0"), b = PairPort(1, name: "p1")
        #expect(live.add(a) == 0 && live.add(b) == 0)
        #expect(lines == ["port p0: up (pair 0)", "port p1: up (pair 1)"])

        // A frame from a station on p0 is flooded to p1, and the station is learned on p0.
        a.inject(Self.frame(from: Self.station, to: MACAddress(0xff, 0xff, 0xff, 0xff, 0xff, 0xff)))
        var atB: [[UInt8]] = []
        try Self.poll(live, batch: &batch) { atB += b.frames(); return !atB.isEmpty }
        #expect(atB.count == 1)
        #expect(pipeline.fdbEntries().first?.entries.map(\.port) == [a.port])

        // Removed: closed, its station forgotten, left out of the stats line.
        live.remove(a.port)
        #expect(!a.isUp)
        #expect(pipeline.fdbEntries().first?.entries.isEmpty == true)
        #expect(live.ports.map(\.name) == ["p1"])
        #expect(live.statsLine() == "stats: p1 up rx 0 tx 1")

        // A new port on the same pipeline port carries frames at once.
        let c = PairPort(0, name: "p0")
        #expect(live.add(c) == 0)
        b.inject(Self.frame(from: MACAddress(0x02, 0, 0, 0, 0, 0x0b), to: Self.station))
        var atC: [[UInt8]] = []
        try Self.poll(live, batch: &batch) { atC += c.frames(); return !atC.isEmpty }
        #expect(atC.count == 1)
        #expect(a.counters.sent == 0)
        #expect(live.statsLine() == "stats: p1 up rx 1 tx 1, p0 up rx 0 tx 1")
    }
}
