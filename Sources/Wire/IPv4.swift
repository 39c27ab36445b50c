/// An IPv4 header (RFC 791 §3.1):
///
/// ```
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |Version|  IHL  |    DSCP   |ECN|          Total Length         |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |         Identification        |Flags|      Fragment Offset    |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |  Time to Live |    Protocol   |         Header Checksum       |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                       Source Address                          |
/// |                    Destination Address                        |
/// |                    Options (IHL > 5)                          |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ```
///
/// Validation checks the version, that IHL covers the fixed header and fits the bytes, and
/// that the total length covers the header. A total length beyond the bytes present is not
/// rejected here (a capture may have cut the packet): `isTruncated` says so and `payload`
/// stops at the bytes present. Bytes beyond the total length (Ethernet padding) are not
/// part of the payload.
public struct IPv4Header: ~Escapable {
    /// Byte offsets of the fields.
    public enum Field {
        public static let versionAndIHL = 0
        public static let dscpAndECN = 1
        public static let totalLength = 2
        public static let identification = 4
        public static let flagsAndFragmentOffset = 6
        public static let ttl = 8
        public static let `protocol` = 9
        public static let checksum = 10
        public static let source = 12
        public static let destination = 16
        public static let options = 20
    }

    /// The fixed header's length in bytes.
    public static let minimumLength = 20

    /// The packet's bytes, header first (possibly followed by link-layer padding).
    public let bytes: RawSpan

    /// Checks the version, the header length and the total length against the bytes.
    @inlinable
    @_lifetime(copy bytes)
    public init(validating bytes: RawSpan) throws(WireError) {
        try bytes.require(Self.minimumLength)
        let first = bytes.u8(at: Field.versionAndIHL)
        guard first >> 4 == 4 else { throw .badVersion(first >> 4) }
        let headerLength = Int(first & 0x0F) * 4
        guard headerLength >= Self.minimumLength else { throw .badHeaderLength(headerLength) }
        try bytes.require(headerLength)
        let totalLength = Int(bytes.u16(at: Field.totalLength))
        guard totalLength >= headerLength else { throw .badTotalLength(totalLength) }
        self.bytes = bytes
    }

    /// The header's length in bytes, options included.
    @inlinable public var headerLength: Int { Int(bytes.u8(at: Field.versionAndIHL) & 0x0F) * 4 }
    /// Differentiated services code point (6 bits).
    @inlinable public var dscp: UInt8 { bytes.u8(at: Field.dscpAndECN) >> 2 }
    /// Explicit congestion notification (2 bits).
    @inlinable public var ecn: UInt8 { bytes.u8(at: Field.dscpAndECN) & 0x3 }
    /// The total length field: header plus payload.
    @inlinable public var totalLength: Int { Int(bytes.u16(at: Field.totalLength)) }
    /// The identification field.
    @inlinable public var identification: UInt16 { bytes.u16(at: Field.identification) }
    /// The don't-fragment flag.
    @inlinable public var dontFragment: Bool { bytes.u16(at: Field.flagsAndFragmentOffset) & FragmentMask.dontFragment != 0 }
    /// The more-fragments flag.
    @inlinable public var moreFragments: Bool { bytes.u16(at: Field.flagsAndFragmentOffset) & FragmentMask.moreFragments != 0 }
    /// The fragment offset in 8-byte units.
    @inlinable public var fragmentOffset: UInt16 { bytes.u16(at: Field.flagsAndFragmentOffset) & FragmentMask.offset }
    /// True for any fragment: MF set or a non-zero offset.
    @inlinable public var isFragment: Bool { bytes.u16(at: Field.flagsAndFragmentOffset) & FragmentMask.anyFragment != 0 }
    /// The time to live.
    @inlinable public var ttl: UInt8 { bytes.u8(at: Field.ttl) }
    /// The payload's protocol.
    @inlinable public var `protocol`: IPProtocol { IPProtocol(rawValue: bytes.u8(at: Field.protocol)) }
    /// The header checksum field.
    @inlinable public var checksum: UInt16 { bytes.u16(at: Field.checksum) }
    /// The source address.
    @inlinable public var source: IPv4Address { bytes.ipv4(at: Field.source) }
    /// The destination address.
    @inlinable public var destination: IPv4Address { bytes.ipv4(at: Field.destination) }
    /// True when the total length runs past the bytes present.
    @inlinable public var isTruncated: Bool { totalLength > bytes.byteCount }

    /// True when the header checksum verifies (RFC 1071).
    ///
    /// The header is a whole number of 32-bit words (5 to 15), so it is summed a word at a
    /// time into 64 bits, where no carry is lost, in host order (a one's-complement sum does
    /// not depend on byte order, RFC 1071 §2(B), and 0xFFFF reads the same both ways). Every
    /// routed or local IPv4 packet is checked: the general `InternetChecksum.verify` over a
    /// slice of the span (a closure, an 8-byte loop and its tail) took 76 instructions a routed
    /// frame, the five fixed words about 30 (callgrind).
    @inlinable
    public var isChecksumValid: Bool {
        let length = headerLength
        assert(length <= bytes.byteCount, "header length checked by init(validating:)")
        var total = UInt64(bytes.unsafeLoadUnaligned(fromUncheckedByteOffset: 0, as: UInt32.self))
            &+ UInt64(bytes.unsafeLoadUnaligned(fromUncheckedByteOffset: 4, as: UInt32.self))
            &+ UInt64(bytes.unsafeLoadUnaligned(fromUncheckedByteOffset: 8, as: UInt32.self))
            &+ UInt64(bytes.unsafeLoadUnaligned(fromUncheckedByteOffset: 12, as: UInt32.self))
            &+ UInt64(bytes.unsafeLoadUnaligned(fromUncheckedByteOffset: 16, as: UInt32.self))
        var offset = IPv4Header.minimumLength
        while offset < length {  // options
            total &+= UInt64(bytes.unsafeLoadUnaligned(fromUncheckedByteOffset: offset, as: UInt32.self))
            offset += 4
        }
        return InternetChecksum.fold(total) == 0xFFFF
    }

    /// The options, between the fixed header and the payload.
    public var options: RawSpan {
        @_lifetime(copy self) get { bytes.slice(from: Field.options, count: headerLength - Field.options) }
    }

    /// The payload: from the end of the header to the total length or the last byte present.
    public var payload: RawSpan {
        @_lifetime(copy self) get {
            let end = min(totalLength, bytes.byteCount)
            return bytes.slice(from: headerLength, count: end - headerLength)
        }
    }
}

/// The fields of an IPv4 header, to parse and emit.
public struct IPv4Repr: Equatable, Sendable {
    /// The source address.
    public var source: IPv4Address
    /// The destination address.
    public var destination: IPv4Address
    /// The payload's protocol.
    public var `protocol`: IPProtocol
    /// The payload's length in bytes (the total length less the header).
    public var payloadLength: Int
    /// The time to live.
    public var ttl: UInt8
    /// The identification field.
    public var identification: UInt16
    /// The don't-fragment flag.
    public var dontFragment: Bool
    /// The more-fragments flag.
    public var moreFragments: Bool
    /// The fragment offset in 8-byte units.
    public var fragmentOffset: UInt16
    /// Differentiated services code point.
    public var dscp: UInt8
    /// Explicit congestion notification.
    public var ecn: UInt8
    /// The options, a multiple of four bytes (at most 40).
    public var options: [UInt8]

    /// Makes a header from its fields.
    public init(source: IPv4Address, destination: IPv4Address, protocol proto: IPProtocol,
                payloadLength: Int, ttl: UInt8 = 64, identification: UInt16 = 0,
                dontFragment: Bool = true, moreFragments: Bool = false, fragmentOffset: UInt16 = 0,
                dscp: UInt8 = 0, ecn: UInt8 = 0, options: [UInt8] = []) {
        self.source = source
        self.destination = destination
        self.protocol = proto
        self.payloadLength = payloadLength
        self.ttl = ttl
        self.identification = identification
        self.dontFragment = dontFragment
        self.moreFragments = moreFragments
        self.fragmentOffset = fragmentOffset
        self.dscp = dscp
        self.ecn = ecn
        self.options = options
    }

    /// Reads a validated header; the payload length is what the total length announces.
    public init(_ header: borrowing IPv4Header) {
        var options: [UInt8] = []
        header.options.withUnsafeBytes { options = Array($0) }
        self.init(source: header.source, destination: header.destination, protocol: header.protocol,
                  payloadLength: header.totalLength - header.headerLength, ttl: header.ttl,
                  identification: header.identification, dontFragment: header.dontFragment,
                  moreFragments: header.moreFragments, fragmentOffset: header.fragmentOffset,
                  dscp: header.dscp, ecn: header.ecn, options: options)
    }

    /// The header's length in bytes, options included.
    public var headerLength: Int { IPv4Header.minimumLength + options.count }

    /// Writes the header, checksum included, at the start of `bytes`.
    @_lifetime(bytes: copy bytes)
    public func emit(into bytes: inout MutableRawSpan) {
        precondition(options.count % 4 == 0 && options.count <= 40, "IPv4 options must be 4-byte words, at most 40 bytes")
        precondition(bytes.byteCount >= headerLength, "no room for the IPv4 header")
        typealias Field = IPv4Header.Field
        bytes.setU8(0x40 | UInt8(headerLength / 4), at: Field.versionAndIHL)
        bytes.setU8(dscp << 2 | (ecn & 0x3), at: Field.dscpAndECN)
        bytes.setU16(UInt16(headerLength + payloadLength), at: Field.totalLength)
        bytes.setU16(identification, at: Field.identification)
        typealias Mask = IPv4Header.FragmentMask
        let flags: UInt16 = (dontFragment ? Mask.dontFragment : 0) | (moreFragments ? Mask.moreFragments : 0)
        bytes.setU16(flags | (fragmentOffset & Mask.offset), at: Field.flagsAndFragmentOffset)
        bytes.setU8(ttl, at: Field.ttl)
        bytes.setU8(self.protocol.rawValue, at: Field.protocol)
        bytes.setU16(0, at: Field.checksum)
        bytes.setIPv4(source, at: Field.source)
        bytes.setIPv4(destination, at: Field.destination)
        for (index, byte) in options.enumerated() { bytes.setU8(byte, at: Field.options + index) }
        let checksum = InternetChecksum.checksum(bytes.bytes.slice(from: 0, count: headerLength))
        bytes.setU16(checksum, at: Field.checksum)
    }
}

extension IPv4Header {
    /// The first byte of a header of version 4 with no options (IHL 5).
    public static let versionAndMinimumIHL: UInt8 = 0x45

    /// Masks of the flags-and-fragment-offset word (RFC 791 §3.1): don't fragment, more
    /// fragments, the offset (in 8-byte units), and any fragment (more fragments or an offset).
    public enum FragmentMask {
        public static let dontFragment: UInt16 = 0x4000, moreFragments: UInt16 = 0x2000
        public static let offset: UInt16 = 0x1FFF, anyFragment: UInt16 = 0x3FFF
    }
}
