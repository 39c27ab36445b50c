import Dataplane
import Foundation
import Testing

/// `SegmentCoalescer` (Pier's GRO) against `SoftwareSegmenter` (Linux's software GSO rules,
/// itself checked against tshark): a super-frame cut into segments and joined again must come
/// back byte for byte, with the segmentation request the kernel needs; and every rule of
/// Linux's `tcp_gro_receive` that keeps a segment out is kept.
struct SegmentCoalescerTests {
    static let port = PortID(rawValue: 3)

    /// A TCP super-frame (ACK|PSH, 12 bytes of timestamp options, `payload` bytes) over IPv4 or
    /// IPv6, its checksum field holding the pseudo-header sum, as the kernel hands one over.
    static func superFrame(ipv6: Bool, payload: Int = 5_000) -> [UInt8] {
        let tcpLength = 32 + payload
        var bytes: [UInt8] = [0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1] + (ipv6 ? [0x86, 0xdd] : [0x08, 0x00])
        let source: [UInt8], destination: [UInt8]
        if ipv6 {
            source = [0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2]
            destination = [0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 3]
            bytes += [0x60, 0x01, 0x23, 0x45, UInt8(tcpLength >> 8), UInt8(tcpLength & 0xff), 6, 64] + source + destination
        } else {
            source = [10, 0, 1, 2]
            destination = [10, 0, 2, 2]
            bytes += SoftwareSegmenterTests.ipv4(totalLength: 20 + tcpLength, id: 0x1234, proto: 6, source: source, destination: destination)
        }
        let tcp = bytes.count
        bytes += [0x9c, 0x40, 0x14, 0x51, 0, 0, 0x03, 0xe8, 0, 0, 0, 1, 0x80, 0x18, 0x01, 0xf5, 0, 0, 0, 0]
        bytes += [1, 1, 8, 10, 0, 0, 0, 1, 0, 0, 0, 2]
        bytes += (0..<payload).map { UInt8(truncatingIfNeeded: $0 &* 13 &+ 5) }
        var sum = 6 + tcpLength
        for index in stride(from: 0, to: source.count, by: 2) {
            sum += Int(source[index]) << 8 | Int(source[index + 1])
            sum += Int(destination[index]) << 8 | Int(destination[index + 1])
        }
        while sum > 0xffff { sum = (sum & 0xffff) + (sum >> 16) }
        bytes[tcp + 16] = UInt8(sum >> 8)
        bytes[tcp + 17] = UInt8(sum & 0xff)
        return bytes
    }

    /// The segments Linux's software GSO makes of `frame`, 1,448 bytes of payload each.
    static func segments(of frame: [UInt8], ipv6: Bool) -> [[UInt8]] {
        var offload = SegmentOffload()
        offload.flags = 1
        offload.segmentationType = ipv6 ? SegmentOffload.Kind.tcp6 : SegmentOffload.Kind.tcp4
        offload.segmentSize = 1_448
        offload.checksumStart = ipv6 ? 54 : 34
        offload.checksumOffset = 16
        offload.headerLength = ipv6 ? 86 : 66
        let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: 70_000, alignment: 64)
        defer { scratch.deallocate() }
        var pieces: [[UInt8]] = []
        _ = frame.withUnsafeBytes { bytes in
            SoftwareSegmenter.segment(bytes, offload: offload, scratch: scratch) { pieces.append(Array($0)); return true }
        }
        return pieces
    }

    /// Offers `pieces` in order, as `TapOutput` does: joins, or starts afresh; returns how many
    /// joined the first.
    @discardableResult
    static func coalesce(_ pieces: [[UInt8]], into coalescer: SegmentCoalescer, port: PortID = port) -> Int {
        var joined = 0
        for piece in pieces {
            piece.withUnsafeBytes { bytes in
                guard let segment = SegmentCoalescer.segment(in: bytes) else { return }
                if coalescer.join(bytes, segment, port: port) {
                    joined += 1
                } else if !coalescer.isOpen {
                    coalescer.start(bytes, segment, port: port)
                }
            }
        }
        return joined
    }

    @Test(arguments: [false, true])
    func segmentsJoinBackIntoTheSuperFrame(ipv6: Bool) {
        let frame = Self.superFrame(ipv6: ipv6)
        let pieces = Self.segments(of: frame, ipv6: ipv6)
        #expect(pieces.count == 4)
        let coalescer = SegmentCoalescer()
        #expect(Self.coalesce(pieces, into: coalescer) == 3)
        coalescer.seal()
        #expect(coalescer.segments == 4)
        #expect(Array(coalescer.frame) == frame, "the joined frame differs from the one cut")
        let offload = coalescer.offload
        #expect(offload.flags == 1)
        #expect(offload.segmentationType == (ipv6 ? SegmentOffload.Kind.tcp6 : SegmentOffload.Kind.tcp4))
        #expect(offload.segmentSize == 1_448)
        #expect(offload.headerLength == (ipv6 ? 86 : 66))
        #expect(offload.checksumStart == (ipv6 ? 54 : 34))
        #expect(offload.checksumOffset == 16)
        // Cut again, it gives the same segments: the two are each other's inverse.
        #expect(Self.segments(of: Array(coalescer.frame), ipv6: ipv6) == pieces)
    }

    /// One segment alone goes out as it came, without a segmentation request.
    @Test func aLoneSegmentIsLeftAsItIs() {
        let pieces = Self.segments(of: Self.superFrame(ipv6: false), ipv6: false)
        let coalescer = SegmentCoalescer()
        Self.coalesce([pieces[0]], into: coalescer)
        coalescer.seal()
        #expect(Array(coalescer.frame) == pieces[0])
        #expect(coalescer.offload.isNone)
    }

    /// Changes segment 2 of 4 (bytes at `offset` from its TCP or IP header) and returns how
    /// many joined segment 1: a refused segment must not join, nor may any after it.
    static func joinedAfterChanging(_ change: (inout [UInt8]) -> Void) -> Int {
        var pieces = segments(of: superFrame(ipv6: false), ipv6: false)
        change(&pieces[1])
        let coalescer = SegmentCoalescer()
        var joined = 0
        for piece in pieces {
            let done = piece.withUnsafeBytes { bytes -> Bool in
                guard let segment = SegmentCoalescer.segment(in: bytes) else { return true }
                if coalescer.isOpen {
                    guard coalescer.join(bytes, segment, port: port) else { return true }
                    joined += 1
                } else {
                    coalescer.start(bytes, segment, port: port)
                }
                return false
            }
            if done { break }
        }
        return joined
    }

    /// Sets the 16-bit field at `offset` of a segment to `value` and repairs its checksums
    /// (the IPv4 header's and TCP's), so only the rule under test can refuse it.
    static func set(_ bytes: inout [UInt8], _ offset: Int, _ value: UInt16) {
        bytes[offset] = UInt8(value >> 8)
        bytes[offset + 1] = UInt8(value & 0xff)
        bytes[24] = 0
        bytes[25] = 0
        let header = checksum(bytes[14..<34])
        bytes[24] = UInt8(header >> 8)
        bytes[25] = UInt8(header & 0xff)
        bytes[50] = 0
        bytes[51] = 0
        var pseudo = [UInt8](bytes[26..<34]) + [0, 6, UInt8((bytes.count - 34) >> 8), UInt8((bytes.count - 34) & 0xff)]
        pseudo += bytes[34...]
        let tcp = checksum(pseudo[...])
        bytes[50] = UInt8(tcp >> 8)
        bytes[51] = UInt8(tcp & 0xff)
    }

    static func checksum(_ bytes: ArraySlice<UInt8>) -> UInt16 {
        var sum = 0
        let array = Array(bytes)
        for index in stride(from: 0, to: array.count, by: 2) {
            sum += Int(array[index]) << 8 | (index + 1 < array.count ? Int(array[index + 1]) : 0)
        }
        while sum > 0xffff { sum = (sum & 0xffff) + (sum >> 16) }
        return ~UInt16(sum)
    }

    @Test func theUnchangedRunJoinsWhole() {
        #expect(Self.joinedAfterChanging { _ in } == 3)
        // A repaired field set to its own value changes nothing.
        #expect(Self.joinedAfterChanging { Self.set(&$0, 34, 0x9c40) } == 3)
    }

    @Test func linuxsRefusalsAreKept() {
        // Sequence number not following on (a lost segment between).
        #expect(Self.joinedAfterChanging { Self.set(&$0, 34 + 6, 0x1234) } == 0)
        // Another acknowledgement, window, timestamp, TTL, TOS, or IPv4 identification.
        #expect(Self.joinedAfterChanging { Self.set(&$0, 34 + 10, 2) } == 0)
        #expect(Self.joinedAfterChanging { Self.set(&$0, 34 + 14, 0x0200) } == 0)
        #expect(Self.joinedAfterChanging { Self.set(&$0, 34 + 24, 9) } == 0)
        #expect(Self.joinedAfterChanging { Self.set(&$0, 14 + 8, 0x3f06) } == 0)
        #expect(Self.joinedAfterChanging { Self.set(&$0, 14, 0x4510) } == 0)
        #expect(Self.joinedAfterChanging { Self.set(&$0, 14 + 4, 0x1299) } == 0)
        // FIN, SYN, RST, URG or CWR: not joined at all.
        for flag: UInt16 in [0x01, 0x02, 0x04, 0x20, 0x80] {
            #expect(Self.joinedAfterChanging { Self.set(&$0, 34 + 12, 0x8010 | flag) } == 0, "flag \(flag)")
        }
        // PSH joins, and ends the super-frame.
        #expect(Self.joinedAfterChanging { Self.set(&$0, 34 + 12, 0x8018) } == 1)
        // A broken TCP checksum: left for the receiver to drop.
        #expect(Self.joinedAfterChanging { $0[60] ^= 0xff } == 0)
    }

    /// A shorter segment ends the super-frame (what follows it starts the next); one for
    /// another port never joins.
    @Test func shortSegmentsAndOtherPortsEndIt() {
        var pieces = Self.segments(of: Self.superFrame(ipv6: false, payload: 1_448 * 3), ipv6: false)
        pieces[1] = Array(pieces[1][0..<(66 + 100)])
        Self.set(&pieces[1], 16, 20 + 32 + 100)
        Self.set(&pieces[2], 34 + 6, 1_000 + 1_448 + 100)
        let coalescer = SegmentCoalescer()
        #expect(Self.coalesce(Array(pieces[0...1]), into: coalescer) == 1)
        pieces[2].withUnsafeBytes { bytes in
            let segment = SegmentCoalescer.segment(in: bytes)!
            #expect(!coalescer.join(bytes, segment, port: Self.port), "a segment joined after a short one")
        }
        coalescer.reset()
        Self.coalesce([pieces[0]], into: coalescer)
        let next = Self.segments(of: Self.superFrame(ipv6: false), ipv6: false)[1]
        next.withUnsafeBytes { bytes in
            #expect(!coalescer.join(bytes, SegmentCoalescer.segment(in: bytes)!, port: PortID(rawValue: 4)))
            #expect(coalescer.join(bytes, SegmentCoalescer.segment(in: bytes)!, port: Self.port))
        }
    }

    /// A segment of the open super-frame's flow is told from one of another flow (other
    /// ports or addresses), which `TapOutput` may leave open beside it.
    @Test func flowsAreToldApart() {
        let pieces = Self.segments(of: Self.superFrame(ipv6: false), ipv6: false)
        let coalescer = SegmentCoalescer()
        Self.coalesce([pieces[0]], into: coalescer)
        var otherPort = pieces[2], otherAddress = pieces[2]
        Self.set(&otherPort, 34, 0x9c41)
        Self.set(&otherAddress, 26, 0x0a01)
        for (frame, same) in [(pieces[2], true), (otherPort, false), (otherAddress, false)] {
            frame.withUnsafeBytes { bytes in
                let segment = SegmentCoalescer.segment(in: bytes)!
                #expect(coalescer.holdsFlow(of: bytes, segment) == same)
                #expect(!coalescer.join(bytes, segment, port: Self.port), "a segment that does not follow on joined")
            }
        }
    }

    /// 45 segments of 1,448 bytes fit an IPv4 packet's 65,535; a 46th that follows on does not.
    @Test func theIPLengthLimitHolds() {
        var pieces = Self.segments(of: Self.superFrame(ipv6: false, payload: 1_448 * 45), ipv6: false)
        #expect(pieces.count == 45)
        Self.set(&pieces[44], 34 + 12, 0x8010)
        var next = pieces[43]
        let sequence = 1_000 + 45 * 1_448
        Self.set(&next, 34 + 4, UInt16(sequence >> 16))
        Self.set(&next, 34 + 6, UInt16(sequence & 0xffff))
        Self.set(&next, 18, 0x1234 + 45)
        let coalescer = SegmentCoalescer()
        #expect(Self.coalesce(pieces, into: coalescer) == 44)
        next.withUnsafeBytes { bytes in
            #expect(!coalescer.join(bytes, SegmentCoalescer.segment(in: bytes)!, port: Self.port))
        }
        coalescer.seal()
        #expect(coalescer.frame.count == 14 + 20 + 32 + 45 * 1_448)
        // One segment fewer, and the same one joins.
        let fewer = SegmentCoalescer()
        #expect(Self.coalesce(Array(pieces[0..<44]), into: fewer) == 43)
        var following = next
        Self.set(&following, 34 + 4, UInt16((sequence - 1_448) >> 16))
        Self.set(&following, 34 + 6, UInt16((sequence - 1_448) & 0xffff))
        Self.set(&following, 18, 0x1234 + 44)
        following.withUnsafeBytes { bytes in
            #expect(fewer.join(bytes, SegmentCoalescer.segment(in: bytes)!, port: Self.port))
        }
    }

    /// Frames that are not plain TCP segments with payload are never taken.
    @Test func otherFramesAreNotSegments() {
        let pieces = Self.segments(of: Self.superFrame(ipv6: false), ipv6: false)
        var padded = pieces[3]
        padded += [0, 0, 0, 0]
        var udp = pieces[0]
        udp[23] = 17
        let pureAck = Array(pieces[0][0..<66])
        for frame in [padded, udp, pureAck, Array(pieces[0][0..<40])] {
            frame.withUnsafeBytes { #expect(SegmentCoalescer.segment(in: $0) == nil) }
        }
    }
}
