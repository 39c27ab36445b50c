/// Walks a frame's headers from the link layer in, recording each layer's offset and extent
/// in a `DecodedFrame`: Ethernet (802.1Q/802.1ad tags), Linux cooked, ARP, IPv4 (IP-in-IP),
/// IPv6 (its extension headers, IPv6-in-IP), ICMP and ICMPv6 (an error's quote as an inner
/// packet), UDP, TCP, and VXLAN or GENEVE with the frame they carry.
///
/// Each header is validated once, through its view; the first problem stops the walk and is
/// recorded with the layer it was found in. Two problems do not stop it: an IPv4 or IPv6
/// length beyond the bytes of a frame that was captured whole (recorded, then the payload
/// present is still decoded), and truncation inside an ICMP error's quote (normal: a quote
/// is the IP header and 8 bytes). A fragment other than the first is not decoded past IP.
///
/// It does not reassemble fragments, verify checksums (`inspect` does, per layer) or decode
/// application protocols.
public struct FrameDecoder: Sendable {
    /// The UDP destination ports read as VXLAN (defaults: IANA's 4789 and Linux's 8472).
    public private(set) var vxlanPorts: InlineArray<4, UInt16>
    /// How many entries of `vxlanPorts` are in use.
    public private(set) var vxlanPortCount: Int
    /// The UDP port read as GENEVE (RFC 8926: 6081).
    public var genevePort: UInt16 = 6081

    /// The default VXLAN ports: 4789 (IANA) and 8472 (the Linux kernel's and flannel's).
    public static let defaultVXLANPorts: [UInt16] = [4789, 8472]

    /// Makes a decoder that reads UDP to any of `vxlanPorts` (at most four) as VXLAN.
    public init(vxlanPorts: [UInt16] = FrameDecoder.defaultVXLANPorts) {
        precondition(vxlanPorts.count <= 4, "at most four VXLAN ports")
        var ports = InlineArray<4, UInt16>(repeating: 0)
        for (index, port) in vxlanPorts.enumerated() { ports[index] = port }
        self.vxlanPorts = ports
        vxlanPortCount = vxlanPorts.count
    }

    /// True when `port` is one of the VXLAN ports.
    @inlinable
    public func isVXLANPort(_ port: UInt16) -> Bool {
        var index = 0
        while index < vxlanPortCount {
            if vxlanPorts[index] == port { return true }
            index += 1
        }
        return false
    }

    /// What to read next.
    @usableFromInline
    enum Step {
        case ethernet
        case linuxCooked(version2: Bool)
        case rawIP
        case vlan
        case ipv4
        case ipv6
        case ipv6Extension(IPProtocol)
        case arp
        case udp
        case tcp
        case icmpv4
        case icmpv6
        case vxlan
        case geneve
        case done
    }

    /// The step for the payload of an EtherType.
    @inlinable @inline(__always)
    static func step(after type: EtherType) -> Step {
        switch type {
        case .ipv4: .ipv4
        case .ipv6: .ipv6
        case .arp: .arp
        case .vlan, .qinq, .qinqLegacy: .vlan
        case .transparentEthernet: .ethernet
        default: .done
        }
    }

    /// The step for the payload of an IP protocol; tunnels (IP-in-IP, IPv6-in-IP) go one
    /// level deeper.
    @inlinable @inline(__always)
    static func step(after proto: IPProtocol, depth: inout UInt8) -> Step {
        switch proto {
        case .tcp: return .tcp
        case .udp: return .udp
        case .icmp: return .icmpv4
        case .icmpv6: return .icmpv6
        case .ipip:
            depth += 1
            return .ipv4
        case .ipv6:
            depth += 1
            return .ipv6
        default: return proto.isIPv6Extension ? .ipv6Extension(proto) : .done
        }
    }

    /// Decodes `bytes`, a frame of link type `linkType`, and returns what it found. See
    /// `decode(_:linkType:capturedAll:into:)`.
    @inlinable
    public func decode(_ bytes: RawSpan, linkType: LinkType = .ethernet, capturedAll: Bool = true) -> DecodedFrame {
        var result = DecodedFrame()
        decode(bytes, linkType: linkType, capturedAll: capturedAll, into: &result)
        return result
    }

    /// Decodes `bytes`, a frame of link type `linkType`, into `result` (reset first; reusing
    /// one result per frame slot avoids copying it). `capturedAll` is false when the capture
    /// cut the frame short (captured length below the original length), so lengths that run
    /// past the bytes present are expected rather than errors.
    @inlinable
    public func decode(_ bytes: RawSpan, linkType: LinkType = .ethernet, capturedAll: Bool = true,
                       into result: inout DecodedFrame) {
        result.layerCount = 0
        result.error = nil
        var step: Step
        switch linkType {
        case .ethernet: step = .ethernet
        case .linuxSLL: step = .linuxCooked(version2: false)
        case .linuxSLL2: step = .linuxCooked(version2: true)
        case .raw: step = .rawIP
        case .ipv4: step = .ipv4
        case .ipv6: step = .ipv6
        default: return
        }
        var offset = 0
        var end = bytes.byteCount
        var depth: UInt8 = 0
        var quoted = false
        var current = LayerKind.ethernet

        while true {
            // offset <= end <= bytes.byteCount holds throughout: offset only advances past a
            // header its view validated, and end only shrinks to a length checked against it.
            assert(offset <= end && end <= bytes.byteCount)
            let span = bytes.extracting(unchecked: offset..<end)
            do throws(WireError) {
                switch step {
                case .done:
                    return
                case .ethernet:
                    current = .ethernet
                    let header = try EthernetHeader(validating: span)
                    try record(&result, .ethernet, depth, quoted, offset, end)
                    offset += EthernetHeader.length
                    step = Self.step(after: header.etherType)
                case .linuxCooked(let version2):
                    current = .linuxCooked
                    let header = try LinuxCookedHeader(validating: span, version2: version2)
                    try record(&result, .linuxCooked, depth, quoted, offset, end)
                    offset += header.headerLength
                    step = Self.step(after: header.protocolType)
                case .rawIP:
                    current = .ipv4
                    try span.require(1)
                    let version = span.u8(at: 0) >> 4
                    guard version == 4 || version == 6 else { throw .badVersion(version) }
                    step = version == 4 ? .ipv4 : .ipv6
                case .vlan:
                    current = .vlan
                    let tag = try VLANTag(validating: span)
                    try record(&result, .vlan, depth, quoted, offset, end)
                    offset += VLANTag.length
                    step = Self.step(after: tag.etherType)
                case .ipv4:
                    current = .ipv4
                    let header = try IPv4Header(validating: span)
                    let ipEnd = offset + min(header.totalLength, span.byteCount)
                    try record(&result, .ipv4, depth, quoted, offset, ipEnd)
                    if header.isTruncated && capturedAll && !quoted && result.error == nil {
                        result.error = DecodeError(layer: .ipv4, depth: depth, problem: .badTotalLength(header.totalLength))
                    }
                    end = ipEnd
                    offset += header.headerLength
                    step = header.fragmentOffset != 0 ? .done : Self.step(after: header.protocol, depth: &depth)
                case .ipv6:
                    current = .ipv6
                    let header = try IPv6Header(validating: span)
                    let ipEnd = offset + IPv6Header.length + min(header.payloadLength, span.byteCount - IPv6Header.length)
                    try record(&result, .ipv6, depth, quoted, offset, ipEnd)
                    if header.isTruncated && capturedAll && !quoted && result.error == nil {
                        result.error = DecodeError(layer: .ipv6, depth: depth, problem: .badTotalLength(header.payloadLength))
                    }
                    end = ipEnd
                    offset += IPv6Header.length
                    step = Self.step(after: header.nextHeader, depth: &depth)
                case .ipv6Extension(let kind):
                    current = .ipv6Extension
                    let header = try IPv6ExtensionHeader(validating: span, kind: kind)
                    try record(&result, .ipv6Extension, depth, quoted, offset, offset + header.length)
                    offset += header.length
                    step = kind == .fragment && header.fragmentOffset != 0
                        ? .done : Self.step(after: header.nextHeader, depth: &depth)
                case .arp:
                    current = .arp
                    let packet = try ARPPacket(validating: span)
                    let length = ARPPacket.fixedLength + 2 * (packet.hardwareSize + packet.protocolSize)
                    try record(&result, .arp, depth, quoted, offset, offset + length)
                    return
                case .udp:
                    current = .udp
                    let header = try UDPHeader(validating: span)
                    let udpEnd = offset + min(header.length, span.byteCount)
                    try record(&result, .udp, depth, quoted, offset, udpEnd)
                    if quoted { return }
                    // Tunnels are told by the destination port alone: the source port is a
                    // flow hash (RFC 7348 §5, RFC 8926 §3.3).
                    let destination = header.destinationPort
                    if isVXLANPort(destination) {
                        step = .vxlan
                    } else if destination == genevePort {
                        step = .geneve
                    } else {
                        return
                    }
                    end = udpEnd
                    offset += UDPHeader.length
                case .tcp:
                    current = .tcp
                    _ = try TCPHeader(validating: span)
                    try record(&result, .tcp, depth, quoted, offset, end)
                    return
                case .icmpv4:
                    current = .icmpv4
                    let message = try ICMPv4Message(validating: span)
                    try record(&result, .icmpv4, depth, quoted, offset, end)
                    guard message.type.isError && !quoted else { return }
                    offset += ICMPv4Message.headerLength
                    depth += 1
                    quoted = true
                    step = .ipv4
                case .icmpv6:
                    current = .icmpv6
                    let message = try ICMPv6Message(validating: span)
                    try record(&result, .icmpv6, depth, quoted, offset, end)
                    guard message.isError && !quoted else { return }
                    offset += ICMPv6Message.headerLength
                    depth += 1
                    quoted = true
                    step = .ipv6
                case .vxlan:
                    current = .vxlan
                    _ = try VXLANHeader(validating: span)
                    try record(&result, .vxlan, depth, quoted, offset, end)
                    offset += VXLANHeader.length
                    depth += 1
                    step = .ethernet
                case .geneve:
                    current = .geneve
                    let header = try GENEVEHeader(validating: span)
                    try record(&result, .geneve, depth, quoted, offset, end)
                    offset += header.headerLength
                    depth += 1
                    step = Self.step(after: header.protocolType)
                }
            } catch {
                // Inside an ICMP quote, running out of bytes is the norm, not a fault.
                if quoted, case .truncated = error { return }
                if result.error == nil { result.error = DecodeError(layer: current, depth: depth, problem: error) }
                return
            }
        }
    }

    /// Appends a layer record, or fails when the frame nests deeper than `DecodedFrame` holds.
    @inlinable @inline(__always)
    func record(_ result: inout DecodedFrame, _ kind: LayerKind, _ depth: UInt8, _ quoted: Bool,
                _ offset: Int, _ end: Int) throws(WireError) {
        guard result.append(Layer(kind: kind, depth: depth, isQuoted: quoted, offset: offset, end: end)) else {
            throw .malformed(.tooManyLayers)
        }
    }
}
