#if canImport(Glibc)
import Glibc
#endif
import Wire

/// Joins consecutive TCP segments of one flow, switched to one port, into one super-frame of
/// up to 64 KB with a segmentation request (`offload`), so the kernel behind a TAP device
/// takes a batch's segments in one write and its stack handles them as one packet. It is what
/// Linux's GRO does for a NIC (`inet_gro_receive`, `ipv6_gro_receive`, `tcp_gro_receive`),
/// with the same rules:
///
/// - a segment joins only when everything but the lengths, the IPv4 identification and
///   checksum, the TCP sequence number, checksum and PSH is equal to the first segment's:
///   Ethernet header, IP addresses, TOS/traffic class and flow label, TTL/hop limit, DF, TCP
///   ports, acknowledgement, window, flags and options (timestamps included);
/// - its sequence number follows the last one's and its IPv4 identification counts on by one;
/// - every segment but the last carries the first one's payload size; a shorter segment or one
///   with PSH ends the super-frame;
/// - only plain ACK segments with payload: no SYN, FIN, RST, URG or CWR, no IP options, IPv6
///   extension headers or fragments, no VLAN tag, nothing after the IP packet;
/// - the TCP checksum (and IPv4 header checksum) of each segment is verified first, unless the
///   kernel already did (`DATA_VALID`); a segment that fails is left alone, for the receiver to
///   drop.
///
/// The super-frame keeps the first segment's headers with the total length, the PSH of the
/// last segment and a partial checksum (`NEEDS_CSUM`, the pseudo-header's sum in the field),
/// which a receiving kernel takes as verified, as it takes a GRO packet.
///
/// One super-frame is open at a time (`isOpen`); its bytes lie in a buffer made once with the
/// coalescer, so nothing is allocated per segment. The caller `seal()`s it, writes it out
/// (`frame` behind `offload`) and calls `reset()` before anything else goes to its port, and
/// at the end of every batch.
public final class SegmentCoalescer {
    /// Where a segment's parts are, once it is known to be one that can be joined.
    public struct Segment: Equatable {
        /// The IP header's offset (after Ethernet).
        public var network: Int
        /// The TCP header's offset.
        public var transport: Int
        /// The payload's offset: the length of all headers.
        public var headers: Int
        /// The payload's byte count.
        public var payload: Int
        /// True for IPv6.
        public var isIPv6: Bool
        /// The TCP flags byte.
        public var flags: UInt8
    }

    /// The largest super-frame: an IPv4 total length, or IPv6 payload length, of 65,535 bytes.
    public static let largestIPPacket = 65_535
    static let psh: UInt8 = 0x08, ack: UInt8 = 0x10
    /// SYN, FIN, RST, URG and CWR: a segment carrying any is never joined (`tcp_gro_receive`).
    static let unjoinableFlags: UInt8 = 0x01 | 0x02 | 0x04 | 0x20 | 0x80

    /// The open super-frame's bytes (headers of the first segment, then every payload).
    private let storage: UnsafeMutableRawBufferPointer
    /// The open super-frame's length; 0 when none is open.
    public private(set) var length = 0
    /// How many segments it holds.
    public private(set) var segments = 0
    /// The port it goes to.
    public private(set) var port: PortID = PortID(rawValue: 0)
    /// The owner's mark of when it was opened (which of several is oldest).
    public var stamp: UInt64 = 0
    private var first = Segment(network: 0, transport: 0, headers: 0, payload: 0, isIPv6: false, flags: 0)
    private var nextSequence: UInt32 = 0
    private var lastFlags: UInt8 = 0
    private var ended = false

    /// A coalescer with room for one super-frame of the largest size.
    public init() {
        storage = .allocate(byteCount: 14 + Self.largestIPPacket + 64, alignment: 64)
    }

    deinit { storage.deallocate() }

    /// True while a super-frame is open.
    public var isOpen: Bool { segments > 0 }

    /// The open super-frame's bytes.
    public var frame: UnsafeRawBufferPointer { UnsafeRawBufferPointer(rebasing: storage[0..<length]) }

    /// The segmentation request to write in front of the open super-frame: none for a single
    /// segment (written as it came), else TSO with a partial checksum.
    public var offload: SegmentOffload {
        var offload = SegmentOffload()
        guard segments > 1 else { return offload }
        offload.flags = 1
        offload.segmentationType = first.isIPv6 ? SegmentOffload.Kind.tcp6 : SegmentOffload.Kind.tcp4
        offload.headerLength = UInt16(first.headers)
        offload.segmentSize = UInt16(first.payload)
        offload.checksumStart = UInt16(first.transport)
        offload.checksumOffset = UInt16(TCPHeader.Field.checksum)
        offload.frameLength = Int32(length)
        return offload
    }

    /// Makes the open super-frame's headers say what it now is, before it is written: with
    /// more than one segment, its IP length (and IPv4 header checksum), the last segment's PSH
    /// and the partial TCP checksum.
    public func seal() {
        if segments > 1 { setLengths() }
    }

    /// Closes the open super-frame (after it was written, or to drop it).
    public func reset() {
        length = 0
        segments = 0
        ended = false
    }

    /// Where `bytes`' parts are when it is a TCP segment that could be joined to others (see
    /// the type's rules); nil otherwise. With `checksumsVerified` (the kernel's `DATA_VALID`)
    /// the TCP checksum is not summed again.
    public static func segment(in bytes: UnsafeRawBufferPointer, checksumsVerified: Bool = false) -> Segment? {
        guard let base = bytes.baseAddress, bytes.count >= 14 + 20 + 20 else { return nil }
        let etherType = RawFields.load16(base, 12)
        let network = 14
        let transport: Int
        let isIPv6: Bool
        if etherType == 0x0800 {
            guard base.load(fromByteOffset: network, as: UInt8.self) == 0x45,
                  Int(RawFields.load16(base, network + IPv4Header.Field.totalLength)) == bytes.count - network,
                  RawFields.load16(base, network + IPv4Header.Field.flagsAndFragmentOffset) & 0x3FFF == 0,
                  base.load(fromByteOffset: network + 9, as: UInt8.self) == 6,
                  RawFields.sum(base + network, count: 20) == 0xFFFF else { return nil }
            transport = network + 20
            isIPv6 = false
        } else if etherType == 0x86DD {
            guard bytes.count >= network + 40 + 20, base.load(fromByteOffset: network, as: UInt8.self) >> 4 == 6,
                  Int(RawFields.load16(base, network + 4)) == bytes.count - network - 40,
                  base.load(fromByteOffset: network + 6, as: UInt8.self) == 6 else { return nil }
            transport = network + 40
            isIPv6 = true
        } else {
            return nil
        }
        let headers = transport + Int(base.load(fromByteOffset: transport + 12, as: UInt8.self) >> 4) * 4
        let flags = base.load(fromByteOffset: transport + 13, as: UInt8.self)
        guard headers >= transport + 20, headers < bytes.count,
              flags & ack != 0, flags & unjoinableFlags == 0 else { return nil }
        if !checksumsVerified {
            let length = bytes.count - transport
            guard InternetChecksum.add(RawFields.pseudoHeaderSum(base, network: network, isIPv6: isIPv6, proto: 6, length: length),
                                       RawFields.sum(base + transport, count: length)) == 0xFFFF else { return nil }
        }
        return Segment(network: network, transport: transport, headers: headers, payload: bytes.count - headers,
                       isIPv6: isIPv6, flags: flags)
    }

    /// Adds `segment` (in `bytes`) to the open super-frame when it may join it; false (and
    /// nothing changed) when it may not, or none is open.
    public func join(_ bytes: UnsafeRawBufferPointer, _ segment: Segment, port: PortID) -> Bool {
        guard isOpen, !ended, port == self.port, let base = bytes.baseAddress,
              segment.isIPv6 == first.isIPv6, segment.headers == first.headers, segment.payload <= first.payload,
              length + segment.payload - first.network <= Self.largestIPPacket + (first.isIPv6 ? 40 : 0),
              RawFields.load32(base, segment.transport + TCPHeader.Field.sequence) == nextSequence else { return false }
        let open = UnsafeRawPointer(storage.baseAddress!)
        let t = first.transport, n = first.network
        // Everything but the lengths, IPv4 identification and checksum, sequence number,
        // TCP checksum and PSH must be the first segment's.
        guard equal(base, open, 0, 14) else { return false }
        if first.isIPv6 {
            guard equal(base, open, n, 4), equal(base, open, n + 6, 34) else { return false }
        } else {
            guard equal(base, open, n, 2), equal(base, open, n + 6, 4), equal(base, open, n + 12, 8),
                  RawFields.load16(base, n + IPv4Header.Field.identification)
                    == RawFields.load16(open, n + IPv4Header.Field.identification) &+ UInt16(truncatingIfNeeded: segments) else { return false }
        }
        guard equal(base, open, t, 4), equal(base, open, t + 8, 5),
              segment.flags & ~Self.psh == first.flags & ~Self.psh,
              equal(base, open, t + 14, 2), equal(base, open, t + 18, segment.headers - t - 18) else { return false }
        (storage.baseAddress! + length).copyMemory(from: base + segment.headers, byteCount: segment.payload)
        length += segment.payload
        segments += 1
        note(segment)
        return true
    }

    /// Opens a super-frame for `port` with `segment` (in `bytes`) as its first segment; any
    /// open one is dropped (write it first).
    public func start(_ bytes: UnsafeRawBufferPointer, _ segment: Segment, port: PortID) {
        storage.baseAddress!.copyMemory(from: bytes.baseAddress!, byteCount: bytes.count)
        length = bytes.count
        segments = 1
        ended = false
        self.port = port
        first = segment
        note(segment)
    }

    /// True when `segment` (in `bytes`) belongs to the open super-frame's flow: the same IP
    /// addresses and TCP ports.
    public func holdsFlow(of bytes: UnsafeRawBufferPointer, _ segment: Segment) -> Bool {
        guard isOpen, segment.isIPv6 == first.isIPv6, segment.transport == first.transport, let base = bytes.baseAddress else { return false }
        let open = UnsafeRawPointer(storage.baseAddress!)
        let addresses = first.isIPv6 ? (first.network + 8, 32) : (first.network + IPv4Header.Field.source, 8)
        return equal(base, open, addresses.0, addresses.1) && equal(base, open, first.transport, 4)
    }

    /// True when `segment` could only be the last one of a super-frame it starts (PSH): it is
    /// as well written as it is.
    public static func endsAtOnce(_ segment: Segment) -> Bool { segment.flags & psh != 0 }

    /// Remembers where the next segment's sequence number must be and whether this one ends
    /// the super-frame.
    private func note(_ segment: Segment) {
        let sequence = RawFields.load32(UnsafeRawPointer(storage.baseAddress!), first.transport + TCPHeader.Field.sequence)
        nextSequence = sequence &+ UInt32(truncatingIfNeeded: length - first.headers)
        lastFlags = segment.flags
        if segment.payload < first.payload || segment.flags & Self.psh != 0 { ended = true }
    }

    /// Sets the lengths, IPv4 header checksum, PSH and partial checksum (`seal`).
    private func setLengths() {
        let base = storage.baseAddress!
        let n = first.network, t = first.transport
        if first.isIPv6 {
            RawFields.store16(base, n + 4, UInt16(length - n - 40))
        } else {
            RawFields.store16(base, n + IPv4Header.Field.totalLength, UInt16(length - n))
            RawFields.fillIPv4Checksum(base, at: n)
        }
        let flags = base.load(fromByteOffset: t + 13, as: UInt8.self)
        base.storeBytes(of: (flags & ~Self.psh) | (lastFlags & Self.psh), toByteOffset: t + 13, as: UInt8.self)
        RawFields.store16(base, t + TCPHeader.Field.checksum,
                RawFields.pseudoHeaderSum(base, network: n, isIPv6: first.isIPv6, proto: 6, length: length - t))
    }

    private func equal(_ a: UnsafeRawPointer, _ b: UnsafeRawPointer, _ offset: Int, _ count: Int) -> Bool {
        count <= 0 || memcmp(a + offset, b + offset, count) == 0
    }

}
