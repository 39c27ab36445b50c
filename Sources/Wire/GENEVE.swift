/// A GENEVE header (RFC 8926 §3.4), carried in UDP port 6081:
///
/// ```
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |Ver|  Opt Len  |O|C|    Rsvd.  |          Protocol Type        |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |        Virtual Network Identifier (VNI)       |    Reserved   |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |                 Variable-Length Options (Opt Len × 4 bytes)   |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ```
///
/// The protocol type is an EtherType: 0x6558 for an inner Ethernet frame.
public struct GENEVEHeader: ~Escapable {
    /// Byte offsets of the fields.
    public enum Field {
        public static let versionAndOptionLength = 0
        public static let flags = 1
        public static let protocolType = 2
        public static let vni = 4
        public static let options = 8
    }

    /// The fixed header's length in bytes.
    public static let minimumLength = 8

    /// The bytes, header first.
    public let bytes: RawSpan

    /// Checks the version (0) and that the options the header announces are present.
    @inlinable
    @_lifetime(copy bytes)
    public init(validating bytes: RawSpan) throws(WireError) {
        try bytes.require(Self.minimumLength)
        let first = bytes.u8(at: Field.versionAndOptionLength)
        guard first >> 6 == 0 else { throw .badVersion(first >> 6) }
        try bytes.require(Self.minimumLength + Int(first & 0x3F) * 4)
        self.bytes = bytes
    }

    /// The version (always 0 once validated).
    @inlinable public var version: UInt8 { bytes.u8(at: Field.versionAndOptionLength) >> 6 }
    /// The options' length in bytes.
    @inlinable public var optionsLength: Int { Int(bytes.u8(at: Field.versionAndOptionLength) & 0x3F) * 4 }
    /// The header's length in bytes, options included.
    @inlinable public var headerLength: Int { Self.minimumLength + optionsLength }
    /// The O bit: a control packet.
    @inlinable public var isControl: Bool { bytes.u8(at: Field.flags) & 0x80 != 0 }
    /// The C bit: critical options are present.
    @inlinable public var hasCriticalOptions: Bool { bytes.u8(at: Field.flags) & 0x40 != 0 }
    /// The EtherType of the payload.
    @inlinable public var protocolType: EtherType { EtherType(rawValue: bytes.u16(at: Field.protocolType)) }
    /// The 24-bit virtual network identifier.
    @inlinable public var vni: UInt32 { bytes.u32(at: Field.vni) >> 8 }

    /// The options.
    public var options: RawSpan {
        @_lifetime(copy self) get { bytes.slice(from: Field.options, count: optionsLength) }
    }

    /// The payload after the options.
    public var payload: RawSpan {
        @_lifetime(copy self) get { bytes.slice(from: headerLength) }
    }
}

/// The fields of a GENEVE header, to parse and emit.
public struct GENEVERepr: Equatable, Sendable {
    /// The 24-bit virtual network identifier.
    public var vni: UInt32
    /// The EtherType of the payload.
    public var protocolType: EtherType
    /// The O bit.
    public var isControl: Bool
    /// The C bit.
    public var hasCriticalOptions: Bool
    /// The options, a multiple of four bytes (at most 252).
    public var options: [UInt8]

    /// Makes a header from its fields.
    public init(vni: UInt32, protocolType: EtherType = .transparentEthernet, isControl: Bool = false,
                hasCriticalOptions: Bool = false, options: [UInt8] = []) {
        self.vni = vni & 0xFF_FFFF
        self.protocolType = protocolType
        self.isControl = isControl
        self.hasCriticalOptions = hasCriticalOptions
        self.options = options
    }

    /// Reads a validated header.
    public init(_ header: borrowing GENEVEHeader) {
        var options: [UInt8] = []
        header.options.withUnsafeBytes { options = Array($0) }
        self.init(vni: header.vni, protocolType: header.protocolType, isControl: header.isControl,
                  hasCriticalOptions: header.hasCriticalOptions, options: options)
    }

    /// The header's length in bytes.
    public var headerLength: Int { GENEVEHeader.minimumLength + options.count }

    /// Writes the header at the start of `bytes`.
    @_lifetime(bytes: copy bytes)
    public func emit(into bytes: inout MutableRawSpan) {
        precondition(options.count % 4 == 0 && options.count <= 252, "GENEVE options must be 4-byte words, at most 252 bytes")
        precondition(bytes.byteCount >= headerLength, "no room for the GENEVE header")
        typealias Field = GENEVEHeader.Field
        bytes.setU8(UInt8(options.count / 4), at: Field.versionAndOptionLength)
        bytes.setU8((isControl ? 0x80 : 0) | (hasCriticalOptions ? 0x40 : 0), at: Field.flags)
        bytes.setU16(protocolType.rawValue, at: Field.protocolType)
        bytes.setU32(vni << 8, at: Field.vni)
        for (index, byte) in options.enumerated() { bytes.setU8(byte, at: Field.options + index) }
    }
}
