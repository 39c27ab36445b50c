/// What the decoder found in a frame: the layers it walked, outermost first, each with its
/// offset and extent, and the first problem it met, if any.
///
/// Fixed-size and allocation-free, so the classify stage can keep one per frame; `inspect`
/// re-reads each layer's fields through its view at the recorded offset.
public struct DecodedFrame: Sendable {
    /// The most layers recorded; deeper nesting stops the walk with an error.
    public static let maximumLayers = 16

    /// The layers, outermost first; only the first `layerCount` are meaningful.
    public var layers: InlineArray<16, Layer>
    /// The number of layers decoded.
    public var layerCount = 0
    /// The first problem met, or nil when every layer decoded.
    public var error: DecodeError?

    /// Makes an empty result.
    @inlinable
    public init() {
        layers = InlineArray(repeating: Layer(rawValue: 0))
    }

    /// Adds a layer; false when no room is left.
    @inlinable @inline(__always)
    mutating func append(_ layer: Layer) -> Bool {
        guard layerCount < Self.maximumLayers else { return false }
        layers[layerCount] = layer
        layerCount += 1
        return true
    }

    /// The innermost layer of `kind`, if any.
    public func last(_ kind: LayerKind) -> Layer? {
        var index = layerCount - 1
        while index >= 0 {
            if layers[index].kind == kind { return layers[index] }
            index -= 1
        }
        return nil
    }
}

/// One decoded header: what it is, how deep it sits, and the bytes it spans in the frame.
///
/// Packed in one `UInt64` (kind 8 bits, depth 7, quoted 1, offset 24, end 24) so a
/// `DecodedFrame` stays small and trivially copyable; frames are at most 256 KiB, well
/// within 24 bits.
public struct Layer: Equatable, Sendable {
    /// The packed fields.
    public var rawValue: UInt64

    /// Makes a layer from its packed fields.
    @inlinable
    public init(rawValue: UInt64) { self.rawValue = rawValue }

    /// Makes a layer record.
    @inlinable
    public init(kind: LayerKind, depth: UInt8, isQuoted: Bool = false, offset: Int, end: Int) {
        rawValue = UInt64(kind.rawValue) | UInt64(depth & 0x7F) << 8 | (isQuoted ? 1 << 15 : 0)
            | UInt64(offset & 0xFF_FFFF) << 16 | UInt64(end & 0xFF_FFFF) << 40
    }

    /// The protocol.
    @inlinable public var kind: LayerKind { LayerKind(rawValue: UInt8(truncatingIfNeeded: rawValue)) ?? .ethernet }
    /// 0 for the outer packet; one more inside each tunnel (VXLAN, GENEVE, IP-in-IP) or ICMP
    /// error quote.
    @inlinable public var depth: UInt8 { UInt8(truncatingIfNeeded: rawValue >> 8) & 0x7F }
    /// True inside an ICMP error's quote, where truncation is normal.
    @inlinable public var isQuoted: Bool { rawValue & (1 << 15) != 0 }
    /// Where the header begins in the frame.
    @inlinable public var offset: Int { Int(truncatingIfNeeded: rawValue >> 16) & 0xFF_FFFF }
    /// Where this layer's PDU (header and payload) ends in the frame: for IP, the total length
    /// or the last byte present.
    @inlinable public var end: Int { Int(truncatingIfNeeded: rawValue >> 40) & 0xFF_FFFF }

    /// The layer's bytes within the frame's bytes.
    @_lifetime(copy frame)
    public func bytes(in frame: RawSpan) -> RawSpan {
        frame.extracting(offset..<end)
    }
}

/// The protocols the decoder knows.
public enum LayerKind: UInt8, Sendable, CaseIterable {
    case ethernet, vlan, linuxCooked, arp, ipv4, ipv6, ipv6Extension, icmpv4, icmpv6, udp, tcp, vxlan, geneve

    /// The short lower-case name used in errors and traces (`ipv4`, `vxlan`, …).
    public var name: String {
        switch self {
        case .ethernet: "eth"
        case .vlan: "vlan"
        case .linuxCooked: "sll"
        case .arp: "arp"
        case .ipv4: "ipv4"
        case .ipv6: "ipv6"
        case .ipv6Extension: "ipv6-ext"
        case .icmpv4: "icmp"
        case .icmpv6: "icmpv6"
        case .udp: "udp"
        case .tcp: "tcp"
        case .vxlan: "vxlan"
        case .geneve: "geneve"
        }
    }
}

/// A problem in one layer: which layer, how deep, and what.
public struct DecodeError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The layer that could not be read.
    public var layer: LayerKind
    /// Its depth (0: the outer packet).
    public var depth: UInt8
    /// What was wrong.
    public var problem: WireError

    /// Makes an error record.
    public init(layer: LayerKind, depth: UInt8, problem: WireError) {
        self.layer = layer
        self.depth = depth
        self.problem = problem
    }

    /// `ipv4: bad header length 12`, the form `inspect` prints under `error`.
    public var description: String { "\(layer.name): \(problem.description)" }
}
