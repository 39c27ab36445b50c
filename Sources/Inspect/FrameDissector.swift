import Wire

/// Turns a decoded frame into what `pier inspect` prints: a JSON object whose keys are
/// Wireshark's field names (DESIGN.md, "inspect --json"), or a tcpdump-like line.
///
/// Layers at depth 0 are the outer packet; each deeper level (inside VXLAN, GENEVE, IP-in-IP,
/// or an ICMP error's quote) goes under `"inner"`, recursively.
public struct FrameDissector: Sendable {
    /// The decoder, which knows the VXLAN ports.
    public var decoder: FrameDecoder

    /// Makes a dissector using `decoder`.
    public init(decoder: FrameDecoder = FrameDecoder()) { self.decoder = decoder }

    /// The capture metadata of one frame.
    public struct Metadata: Sendable {
        /// The 1-based frame number.
        public var number: Int
        /// Capture time, nanoseconds since the Unix epoch.
        public var timestamp: Int64
        /// The length on the wire.
        public var originalLength: Int
        /// The link type of the frame's interface.
        public var linkType: LinkType
        /// The name of the interface that captured it (pcapng `if_name`), if known.
        public var interfaceName: String?
        /// False for a frame stored without a timestamp (a pcapng simple packet block).
        public var hasTimestamp: Bool
        /// Makes frame metadata.
        public init(number: Int, timestamp: Int64, originalLength: Int, linkType: LinkType,
                    interfaceName: String? = nil, hasTimestamp: Bool = true) {
            self.number = number
            self.timestamp = timestamp
            self.originalLength = originalLength
            self.linkType = linkType
            self.interfaceName = interfaceName
            self.hasTimestamp = hasTimestamp
        }
    }

    /// Decodes a frame of `metadata`'s link type. BSD loopback (LINKTYPE_NULL) is its 4-byte
    /// address family then IP: the IP is decoded as a raw frame and its layers placed after
    /// those 4 bytes.
    func decode(_ bytes: RawSpan, _ metadata: Metadata) -> DecodedFrame {
        let capturedAll = bytes.byteCount >= metadata.originalLength
        guard metadata.linkType == .null, bytes.byteCount >= 4 else {
            return decoder.decode(bytes, linkType: metadata.linkType, capturedAll: capturedAll)
        }
        var decoded = decoder.decode(bytes.extracting(4...), linkType: .raw, capturedAll: capturedAll)
        for index in 0..<decoded.layerCount {
            decoded.layers[index].rawValue += 4 << 16 | 4 << 40  // offset and end, 4 bytes on
        }
        return decoded
    }

    /// The frame as one JSON object.
    public func json(_ bytes: RawSpan, _ metadata: Metadata) -> JSONValue {
        let decoded = decode(bytes, metadata)
        var frame: [(String, JSONValue)] = [("frame.number", .integer(Int64(metadata.number)))]
        if let name = metadata.interfaceName { frame.append(("frame.interface_name", .string(name))) }
        if metadata.hasTimestamp { frame.append(("frame.time_epoch", .number(CaptureTime.epoch(metadata.timestamp)))) }
        frame += [("frame.len", .integer(Int64(metadata.originalLength))), ("frame.cap_len", .integer(Int64(bytes.byteCount)))]
        var levels = [frame]
        var context = TransportContext()
        for index in 0..<decoded.layerCount {
            let layer = decoded.layers[index]
            let depth = Int(layer.depth)
            while levels.count <= depth { levels.append([]) }
            let span = layer.bytes(in: bytes)
            if layer.kind == .vlan, let tag = try? VLANTag(validating: span) {
                // All of a level's tags go in one vlan.id array, outer first.
                let id = JSONValue.integer(Int64(tag.vlanID))
                if let slot = levels[depth].firstIndex(where: { $0.0 == "vlan.id" }),
                   case .array(let ids) = levels[depth][slot].1 {
                    levels[depth][slot].1 = .array(ids + [id])
                } else {
                    levels[depth].append(("vlan.id", .array([id])))
                }
                continue
            }
            levels[depth] += fields(of: layer, span, linkType: metadata.linkType, context: &context)
        }
        if let error = decoded.error { levels[0].append(("error", .string(error.description))) }
        // Nest each level inside the one before.
        var inner: JSONValue?
        for depth in stride(from: levels.count - 1, through: 0, by: -1) {
            var members = levels[depth]
            if let inner { members.append(("inner", inner)) }
            inner = .object(members)
        }
        return inner ?? .object([])
    }

    /// The fields Wireshark would show for one layer.
    func fields(of layer: Layer, _ span: RawSpan, linkType: LinkType,
                context: inout TransportContext) -> [(String, JSONValue)] {
        switch layer.kind {
        case .ethernet:
            guard let header = try? EthernetHeader(validating: span) else { return [] }
            return [("eth.src", .string(header.source.description)), ("eth.dst", .string(header.destination.description)),
                    ("eth.type", .string(header.etherType.description))]
        case .linuxCooked:
            guard let header = try? LinuxCookedHeader(validating: span, version2: linkType == .linuxSLL2) else { return [] }
            return [("sll.etype", .string(header.protocolType.description))]
        case .vlan:
            return []
        case .arp:
            guard let packet = try? ARPPacket(validating: span) else { return [] }
            var result: [(String, JSONValue)] = [("arp.opcode", .integer(Int64(packet.operation.rawValue)))]
            if packet.isEthernetIPv4 {
                result.append(("arp.src.hw_mac", .string(packet.senderMAC.description)))
            }
            if packet.hasIPv4Addresses {
                result.append(("arp.src.proto_ipv4", .string(packet.senderIPv4.description)))
            }
            if packet.isEthernetIPv4 {
                result.append(("arp.dst.hw_mac", .string(packet.targetMAC.description)))
            }
            if packet.hasIPv4Addresses {
                result.append(("arp.dst.proto_ipv4", .string(packet.targetIPv4.description)))
            }
            return result
        case .ipv4:
            guard let header = try? IPv4Header(validating: span) else { return [] }
            context = TransportContext(addresses: .v4(header.source, header.destination),
                                       verifiable: !header.isFragment && !layer.isQuoted,
                                       transportLength: header.totalLength - header.headerLength)
            return [
                ("ip.src", .string(header.source.description)), ("ip.dst", .string(header.destination.description)),
                ("ip.proto", .integer(Int64(header.protocol.rawValue))), ("ip.ttl", .integer(Int64(header.ttl))),
                ("ip.len", .integer(Int64(header.totalLength))), ("ip.id", .integer(Int64(header.identification))),
                ("ip.flags.mf", .integer(header.moreFragments ? 1 : 0)),
                ("ip.frag_offset", .integer(Int64(header.fragmentOffset))),
                ("ip.checksum.status", .string(ChecksumStatus(header.isChecksumValid).rawValue)),
            ]
        case .ipv6:
            guard let header = try? IPv6Header(validating: span) else { return [] }
            context = TransportContext(addresses: .v6(header.source, header.destination),
                                       verifiable: !layer.isQuoted, transportLength: header.payloadLength,
                                       nextHeader: header.nextHeader)
            return [
                ("ipv6.src", .string(header.source.description)), ("ipv6.dst", .string(header.destination.description)),
                ("ipv6.nxt", .integer(Int64(header.nextHeader.rawValue))), ("ipv6.hlim", .integer(Int64(header.hopLimit))),
            ]
        case .ipv6Extension:
            // The kind is the next-header value of the header before.
            let kind = context.nextHeader
            guard kind.isIPv6Extension, let header = try? IPv6ExtensionHeader(validating: span, kind: kind) else { return [] }
            context.nextHeader = header.nextHeader
            context.transportLength -= header.length
            guard kind == .fragment else { return [] }
            context.verifiable = false  // a fragment's upper layer cannot be checked without reassembly
            return [("ipv6.fraghdr.offset", .integer(Int64(header.fragmentOffset))),
                    ("ipv6.fraghdr.more", .integer(header.moreFragments ? 1 : 0))]
        case .icmpv4:
            guard let message = try? ICMPv4Message(validating: span) else { return [] }
            let status: ChecksumStatus = context.isComplete(span) ? ChecksumStatus(message.isChecksumValid) : .unverified
            return [("icmp.type", .integer(Int64(message.type.rawValue))), ("icmp.code", .integer(Int64(message.code))),
                    ("icmp.checksum.status", .string(status.rawValue))]
        case .icmpv6:
            guard let message = try? ICMPv6Message(validating: span) else { return [] }
            let sum = context.pseudoHeaderSum(protocol: .icmpv6, length: span.byteCount)
            let status: ChecksumStatus = context.isComplete(span) ? ChecksumStatus(message.isChecksumValid(pseudoHeaderSum: sum)) : .unverified
            return [("icmpv6.type", .integer(Int64(message.type))), ("icmpv6.code", .integer(Int64(message.code))),
                    ("icmpv6.checksum.status", .string(status.rawValue))]
        case .udp:
            guard let header = try? UDPHeader(validating: span) else { return [] }
            let status: ChecksumStatus
            if header.checksum == 0 {
                status = context.isIPv6 ? .bad : .notPresent
            } else if !context.verifiable || header.isTruncated {
                status = .unverified
            } else {
                let sum = context.pseudoHeaderSum(protocol: .udp, length: header.length)
                status = ChecksumStatus(header.isChecksumValid(pseudoHeaderSum: sum))
            }
            return [("udp.srcport", .integer(Int64(header.sourcePort))), ("udp.dstport", .integer(Int64(header.destinationPort))),
                    ("udp.length", .integer(Int64(header.length))), ("udp.checksum.status", .string(status.rawValue))]
        case .tcp:
            guard let header = try? TCPHeader(validating: span) else { return [] }
            let sum = context.pseudoHeaderSum(protocol: .tcp, length: span.byteCount)
            let status: ChecksumStatus = context.isComplete(span) ? ChecksumStatus(header.isChecksumValid(pseudoHeaderSum: sum)) : .unverified
            return [("tcp.srcport", .integer(Int64(header.sourcePort))), ("tcp.dstport", .integer(Int64(header.destinationPort))),
                    ("tcp.flags", .string(header.flags.hexDescription)), ("tcp.seq_raw", .integer(Int64(header.sequence))),
                    ("tcp.ack_raw", .integer(Int64(header.acknowledgment))),
                    ("tcp.checksum.status", .string(status.rawValue))]
        case .vxlan:
            guard let header = try? VXLANHeader(validating: span) else { return [] }
            // Wireshark's vxlan.flags is the 16-bit field: 0x0800 for the I flag alone.
            return [("vxlan.flags", .integer(Int64(header.bytes.u16(at: VXLANHeader.Field.flags)))),
                    ("vxlan.vni", .integer(Int64(header.vni)))]
        case .geneve:
            guard let header = try? GENEVEHeader(validating: span) else { return [] }
            return [("geneve.vni", .integer(Int64(header.vni))),
                    ("geneve.proto_type", .string(header.protocolType.description))]
        }
    }
}
