/// Why a header could not be read from the bytes given: the problem found by a view's
/// `init(validating:)`. Small and allocation-free, so the decoder can carry it per frame.
public enum WireError: Error, Equatable, Sendable {
    /// Fewer bytes than the header needs: `needed` bytes, `available` present.
    case truncated(needed: Int, available: Int)
    /// A version field that this view does not read (IPv4 must say 4, IPv6 6, GENEVE 0).
    case badVersion(UInt8)
    /// A header-length field below the fixed header (IPv4 IHL below 5, TCP data offset below 5).
    case badHeaderLength(Int)
    /// A total-length field that disagrees with the header or with the bytes present.
    case badTotalLength(Int)
    /// A field combination the reader cannot interpret.
    case malformed(Malformation)

    /// A short human description, as `inspect` prints it after the layer's name.
    public var description: String {
        switch self {
        case .truncated(let needed, let available):
            "truncated: needs \(needed) bytes, \(available) present"
        case .badVersion(let version):
            "bad version \(version)"
        case .badHeaderLength(let length):
            "bad header length \(length)"
        case .badTotalLength(let length):
            "bad total length \(length)"
        case .malformed(let what):
            "malformed: \(what.description)"
        }
    }
}

/// The field combinations that `WireError.malformed` names. A closed set of plain values,
/// so a decode result stays trivially copyable.
public enum Malformation: UInt8, Sendable {
    /// ARP whose hardware or protocol type or sizes are not Ethernet and IPv4.
    case notEthernetIPv4ARP
    /// More nested layers than a `DecodedFrame` records.
    case tooManyLayers
    /// An ICMPv6 message read as neighbour discovery that is neither type 135 nor 136.
    case notNeighborDiscovery
    /// A neighbour discovery option of length zero or running past the message.
    case badNeighborDiscoveryOption

    /// A short human description.
    public var description: String {
        switch self {
        case .notEthernetIPv4ARP: "not Ethernet/IPv4 ARP"
        case .tooManyLayers: "more than \(DecodedFrame.maximumLayers) layers"
        case .notNeighborDiscovery: "not a neighbour solicitation or advertisement"
        case .badNeighborDiscoveryOption: "neighbour discovery option of length zero or past the end"
        }
    }
}

extension RawSpan {
    /// Throws `WireError.truncated` unless at least `needed` bytes are present.
    @inlinable @inline(__always)
    public func require(_ needed: Int) throws(WireError) {
        if byteCount < needed { throw .truncated(needed: needed, available: byteCount) }
    }
}
