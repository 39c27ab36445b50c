import Wire

extension FrameDissector {
    /// The frame as one tcpdump-like line (`tcpdump -tttt -e -n` in spirit): number, UTC
    /// time, then each layer's summary; an encapsulated frame's inner layers follow ` | `.
    public func line(_ bytes: RawSpan, _ metadata: Metadata, nanosecondTimes: Bool = false) -> String {
        let decoded = decode(bytes, metadata)
        var text = String(metadata.number) + "  " + CaptureTime.format(metadata.timestamp, nanoseconds: nanosecondTimes)
        var ipText = ""  // "src > dst" of the innermost IP layer, awaiting its ports
        var depth: UInt8 = 0
        var lengthShown = false
        for index in 0..<decoded.layerCount {
            let layer = decoded.layers[index]
            let span = layer.bytes(in: bytes)
            if layer.depth != depth {
                if !ipText.isEmpty { text += " " + ipText; ipText = "" }
                text += " |"
                depth = layer.depth
            }
            switch layer.kind {
            case .ethernet:
                guard let header = try? EthernetHeader(validating: span) else { continue }
                text += " \(header.source) > \(header.destination), ethertype \(Self.etherTypeName(header.etherType))"
                if lengthShown {
                    text += ":"
                } else {
                    text += ", length \(metadata.originalLength):"
                    lengthShown = true
                }
            case .linuxCooked:
                guard let header = try? LinuxCookedHeader(validating: span, version2: metadata.linkType == .linuxSLL2) else { continue }
                text += " cooked, ethertype \(Self.etherTypeName(header.protocolType)), length \(metadata.originalLength):"
                lengthShown = true
            case .vlan:
                guard let tag = try? VLANTag(validating: span) else { continue }
                text += " vlan \(tag.vlanID), p \(tag.priority), ethertype \(Self.etherTypeName(tag.etherType)),"
            case .arp:
                guard let packet = try? ARPPacket(validating: span) else { continue }
                if packet.isEthernetIPv4 {
                    text += packet.operation == .reply
                        ? " ARP, Reply \(packet.senderIPv4) is-at \(packet.senderMAC)"
                        : " ARP, Request who-has \(packet.targetIPv4) tell \(packet.senderIPv4)"
                } else {
                    text += " ARP, hardware type \(packet.hardwareType), operation \(packet.operation.rawValue)"
                }
            case .ipv4:
                guard let header = try? IPv4Header(validating: span) else { continue }
                var flags = ""
                if header.isFragment { flags = " (frag \(header.identification):\(header.totalLength - header.headerLength)@\(Int(header.fragmentOffset) * 8)\(header.moreFragments ? "+" : ""))" }
                text += " IP (ttl \(header.ttl), id \(header.identification), length \(header.totalLength)\(flags))"
                ipText = "\(header.source) > \(header.destination)"
            case .ipv6:
                guard let header = try? IPv6Header(validating: span) else { continue }
                text += " IP6 (hlim \(header.hopLimit), next-header \(header.nextHeader.rawValue), payload length \(header.payloadLength))"
                ipText = "\(header.source) > \(header.destination)"
            case .ipv6Extension:
                continue
            case .udp:
                guard let header = try? UDPHeader(validating: span) else { continue }
                text += " " + Self.withPorts(ipText, header.sourcePort, header.destinationPort) + ": UDP, length \(header.length - UDPHeader.length)"
                ipText = ""
            case .tcp:
                guard let header = try? TCPHeader(validating: span) else { continue }
                text += " " + Self.withPorts(ipText, header.sourcePort, header.destinationPort)
                text += ": Flags [\(Self.flagLetters(header.flags))], seq \(header.sequence)"
                if header.flags.contains(.ack) { text += ", ack \(header.acknowledgment)" }
                text += ", win \(header.window), length \(span.byteCount - header.headerLength)"
                ipText = ""
            case .icmpv4:
                guard let message = try? ICMPv4Message(validating: span) else { continue }
                text += " \(ipText): ICMP " + Self.icmpDescription(message.type.rawValue, message.code, message.identifier, message.sequence)
                text += ", length \(span.byteCount)"
                ipText = ""
            case .icmpv6:
                guard let message = try? ICMPv6Message(validating: span) else { continue }
                text += " \(ipText): ICMP6 type \(message.type), code \(message.code), length \(span.byteCount)"
                ipText = ""
            case .vxlan:
                guard let header = try? VXLANHeader(validating: span) else { continue }
                text += " VXLAN, flags [\(header.hasVNI ? "I" : ".")] (0x\(Self.twoHexDigits(header.flags))), vni \(header.vni)"
            case .geneve:
                guard let header = try? GENEVEHeader(validating: span) else { continue }
                text += " Geneve, vni \(header.vni), proto \(Self.etherTypeName(header.protocolType)), options \(header.optionsLength) bytes"
            }
        }
        if !ipText.isEmpty { text += " " + ipText }
        if let error = decoded.error { text += " [error: \(error)]" }
        return text
    }

    /// `IPv4 (0x0800)`, tcpdump's way of naming an EtherType.
    static func etherTypeName(_ type: EtherType) -> String {
        let name: String
        switch type {
        case .ipv4: name = "IPv4"
        case .ipv6: name = "IPv6"
        case .arp: name = "ARP"
        case .vlan: name = "802.1Q"
        case .qinq: name = "802.1Q-QinQ"
        case .qinqLegacy: name = "802.1Q-9100"
        case .transparentEthernet: name = "Ethernet"
        default: name = "Unknown"
        }
        return "\(name) (\(type))"
    }

    /// `10.0.0.1.5000 > 10.0.0.2.53` from `10.0.0.1 > 10.0.0.2` and the ports.
    static func withPorts(_ ipText: String, _ source: UInt16, _ destination: UInt16) -> String {
        let parts = ipText.split(separator: " > ", maxSplits: 1).map(String.init)
        guard parts.count == 2 else { return "port \(source) > port \(destination)" }
        return "\(parts[0]).\(source) > \(parts[1]).\(destination)"
    }

    /// `08` for 8: a byte as two lower-case hex digits.
    static func twoHexDigits(_ byte: UInt8) -> String {
        let digits = String(byte, radix: 16)
        return digits.count == 1 ? "0" + digits : digits
    }

    /// tcpdump's flag letters: S, F, P, R, U, E, W, and `.` for ACK.
    static func flagLetters(_ flags: TCPFlags) -> String {
        var letters = ""
        if flags.contains(.syn) { letters += "S" }
        if flags.contains(.fin) { letters += "F" }
        if flags.contains(.psh) { letters += "P" }
        if flags.contains(.rst) { letters += "R" }
        if flags.contains(.urg) { letters += "U" }
        if flags.contains(.ece) { letters += "E" }
        if flags.contains(.cwr) { letters += "W" }
        if flags.contains(.ack) { letters += "." }
        return letters.isEmpty ? "none" : letters
    }

    /// `echo request, id 1292, seq 1`, `port 53 unreachable`-style ICMP summaries.
    static func icmpDescription(_ type: UInt8, _ code: UInt8, _ identifier: UInt16, _ sequence: UInt16) -> String {
        switch type {
        case 0: "echo reply, id \(identifier), seq \(sequence)"
        case 8: "echo request, id \(identifier), seq \(sequence)"
        case 3: "destination unreachable, code \(code)"
        case 11: "time exceeded, code \(code)"
        default: "type \(type), code \(code)"
        }
    }
}
