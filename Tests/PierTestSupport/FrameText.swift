import Wire

/// Frames as one line of text, for the golden scenarios (fixtures/golden/README.md): `parse`
/// builds the bytes a line describes (through `Packets`, every length and checksum computed),
/// `describe` writes what a frame holds in the same words. The two agree on every frame
/// `parse` can build; `describe` also names what only Pier sends (ICMP errors), and falls back
/// to the EtherType and length for anything else.
///
/// ```
/// 02:42:ac:11:00:02 > ff:ff:ff:ff:ff:ff arp who-has 172.17.0.1 tell 172.17.0.2
/// 02:42:ac:11:00:01 > 02:42:ac:11:00:02 arp reply 172.17.0.1 is-at 02:42:ac:11:00:01 to 172.17.0.2 02:42:ac:11:00:02
/// 02:42:ac:11:00:02 > 02:42:ac:11:00:01 ip 172.17.0.2 > 8.8.8.8 ttl 64 udp 5000 > 53
/// 02:42:ac:11:00:02 > 02:42:ac:11:00:01 ip 172.17.0.2 > 198.51.100.7 ttl 64 tcp 40000 > 443 syn
/// 02:42:ac:11:00:02 > 02:42:ac:11:00:01 ip 172.17.0.2 > 172.17.0.1 ttl 64 icmp echo-request id 7 seq 1
/// hex 0242ac110003...
/// ```
public enum FrameText {
    /// A line that does not describe a frame.
    public struct SyntaxError: Error, CustomStringConvertible {
        /// What was wrong.
        public var description: String
    }

    // MARK: Parsing

    /// The frame `text` describes.
    public static func parse(_ text: String) throws(SyntaxError) -> [UInt8] {
        var words = Words(text.split(separator: " ").map(String.init))
        if words.peek == "hex" {
            words.skip()
            return try bytes(fromHex: words.next("hex digits"))
        }
        let source = try words.mac()
        try words.expect(">")
        let destination = try words.mac()
        let frame: [UInt8]
        switch try words.next("arp or ip") {
        case "arp":
            frame = try arp(&words, source: source, destination: destination)
        case "ip":
            frame = try ipv4(&words, source: source, destination: destination)
        case let other:
            throw SyntaxError(description: "expected arp or ip, found \(other)")
        }
        guard words.isEmpty else { throw SyntaxError(description: "unexpected \(words.rest) at the end") }
        return frame
    }

    private static func arp(_ words: inout Words, source: MACAddress, destination: MACAddress) throws(SyntaxError) -> [UInt8] {
        switch try words.next("who-has or reply") {
        case "who-has":
            let target = try words.ipv4()
            try words.expect("tell")
            return Packets.arp(.request, senderMAC: source, senderIP: try words.ipv4(), targetIP: target, destinationMAC: destination)
        case "reply":
            let sender = try words.ipv4()
            try words.expect("is-at")
            let senderMAC = try words.mac()
            try words.expect("to")
            let target = try words.ipv4()
            return Packets.arp(.reply, senderMAC: senderMAC, senderIP: sender, targetMAC: try words.mac(), targetIP: target,
                               sourceMAC: source, destinationMAC: destination)
        case let other:
            throw SyntaxError(description: "expected who-has or reply, found \(other)")
        }
    }

    private static func ipv4(_ words: inout Words, source sourceMAC: MACAddress, destination destinationMAC: MACAddress) throws(SyntaxError) -> [UInt8] {
        let source = try words.ipv4()
        try words.expect(">")
        let destination = try words.ipv4()
        try words.expect("ttl")
        let ttl = try words.number(UInt8.self)
        switch try words.next("udp, tcp or icmp") {
        case "udp", "tcp":
            let isUDP = words.previous == "udp"
            let sourcePort = try words.number(UInt16.self)
            try words.expect(">")
            let destinationPort = try words.number(UInt16.self)
            if isUDP {
                return Packets.udp(source, sourcePort, destination, destinationPort, sourceMAC: sourceMAC, destinationMAC: destinationMAC, ttl: ttl)
            }
            let flags = try tcpFlags(words.next("TCP flags"))
            return Packets.tcp(source, sourcePort, destination, destinationPort, flags: flags, sourceMAC: sourceMAC,
                               destinationMAC: destinationMAC, ttl: ttl)
        case "icmp":
            let kind = try words.next("echo-request or echo-reply")
            guard kind == "echo-request" || kind == "echo-reply" else {
                throw SyntaxError(description: "expected echo-request or echo-reply, found \(kind)")
            }
            try words.expect("id")
            let identifier = try words.number(UInt16.self)
            try words.expect("seq")
            return Packets.echo(source, destination, identifier: identifier, sequence: try words.number(UInt16.self),
                                reply: kind == "echo-reply", sourceMAC: sourceMAC, destinationMAC: destinationMAC, ttl: ttl)
        case let other:
            throw SyntaxError(description: "expected udp, tcp or icmp, found \(other)")
        }
    }

    /// TCP flag names in the order `describe` writes them.
    private static let flagNames: [(String, TCPFlags)] = [
        ("syn", .syn), ("fin", .fin), ("rst", .rst), ("psh", .psh), ("ack", .ack), ("urg", .urg), ("ece", .ece), ("cwr", .cwr),
    ]

    private static func tcpFlags(_ text: String) throws(SyntaxError) -> TCPFlags {
        var flags: TCPFlags = []
        for name in text.split(separator: "+") {
            guard let flag = flagNames.first(where: { $0.0 == name })?.1 else { throw SyntaxError(description: "unknown TCP flag \(name)") }
            flags.insert(flag)
        }
        return flags
    }

    private static func bytes(fromHex text: String) throws(SyntaxError) -> [UInt8] {
        let digits = Array(text.utf8)
        guard digits.count.isMultiple(of: 2) else { throw SyntaxError(description: "odd number of hex digits") }
        var bytes: [UInt8] = []
        for index in stride(from: 0, to: digits.count, by: 2) {
            guard let byte = UInt8(String(decoding: digits[index..<index + 2], as: UTF8.self), radix: 16) else {
                throw SyntaxError(description: "not hex: \(text)")
            }
            bytes.append(byte)
        }
        return bytes
    }

    // MARK: Describing

    /// The line that describes `bytes`.
    public static func describe(_ bytes: [UInt8]) -> String {
        let span = bytes.span.bytes
        guard let ethernet = try? EthernetHeader(validating: span) else { return "hex " + hex(bytes) }
        let (source, destination, type) = (ethernet.source, ethernet.destination, ethernet.etherType)
        let head = "\(source) > \(destination) "
        let payload = span.slice(from: EthernetHeader.length)
        switch type {
        case .arp:
            guard let packet = try? ARPPacket(validating: payload), let arp = try? ARPRepr(packet) else { break }
            if arp.operation == .request {
                let unusual = arp.senderMAC != source || arp.targetMAC != .zero
                return head + "arp who-has \(arp.targetIP) tell \(arp.senderIP)"
                    + (unusual ? " (sender \(arp.senderMAC), target \(arp.targetMAC))" : "")
            }
            return head + "arp reply \(arp.senderIP) is-at \(arp.senderMAC) to \(arp.targetIP) \(arp.targetMAC)"
        case .ipv4:
            guard let header = try? IPv4Header(validating: payload), !header.isTruncated else { break }
            let ip = IPv4Repr(header)
            let transport = payload.slice(from: ip.headerLength, count: header.totalLength - ip.headerLength)
            return head + "ip \(ip.source) > \(ip.destination) ttl \(ip.ttl) " + describe(transport, protocol: ip.protocol)
                + (Packets.checksumsVerify(bytes) ? "" : " bad-checksum")
        default:
            break
        }
        return head + "type 0x\(hex(type.rawValue)) \(bytes.count) bytes"
    }

    private static func describe(_ transport: RawSpan, protocol proto: IPProtocol) -> String {
        switch proto {
        case .udp:
            guard let udp = try? UDPHeader(validating: transport) else { return "udp cut short" }
            let count = udp.length - UDPHeader.length
            return "udp \(udp.sourcePort) > \(udp.destinationPort)" + (count == 8 ? "" : " (\(count) bytes)")
        case .tcp:
            guard let tcp = try? TCPHeader(validating: transport) else { return "tcp cut short" }
            let flags = tcp.flags
            return "tcp \(tcp.sourcePort) > \(tcp.destinationPort) " + flagNames.filter { flags.contains($0.1) }.map(\.0).joined(separator: "+")
        case .icmp:
            guard let message = try? ICMPv4Message(validating: transport) else { return "icmp cut short" }
            let repr = ICMPv4Repr(message)
            switch repr.type {
            case .echoRequest, .echoReply:
                return "icmp \(repr.type == .echoRequest ? "echo-request" : "echo-reply") id \(message.identifier) seq \(message.sequence)"
            case .timeExceeded, .destinationUnreachable:
                let name = repr.type == .timeExceeded ? "time-exceeded" : "unreachable"
                guard let quoted = try? IPv4Header(validating: message.data) else { return "icmp \(name) code \(repr.code)" }
                let inner = IPv4Repr(quoted)
                return "icmp \(name) code \(repr.code) about \(inner.source) > \(inner.destination) ttl \(inner.ttl) proto \(inner.protocol.rawValue)"
            default:
                return "icmp type \(repr.type.rawValue) code \(repr.code)"
            }
        default:
            return "proto \(proto.rawValue) \(transport.byteCount) bytes"
        }
    }

    private static func hex(_ bytes: [UInt8]) -> String { bytes.map { hex2($0) }.joined() }
    private static func hex(_ value: UInt16) -> String { hex2(UInt8(value >> 8)) + hex2(UInt8(value & 0xFF)) }
    private static func hex2(_ byte: UInt8) -> String {
        let digits = String(byte, radix: 16)
        return digits.count == 1 ? "0" + digits : digits
    }

    /// The words of a line, read front to back.
    private struct Words {
        private var words: [String]
        private var index = 0
        init(_ words: [String]) { self.words = words }

        var isEmpty: Bool { index == words.count }
        var peek: String? { index < words.count ? words[index] : nil }
        var previous: String { words[index - 1] }
        var rest: String { words[index...].joined(separator: " ") }

        mutating func skip() { index += 1 }

        mutating func next(_ expected: String) throws(SyntaxError) -> String {
            guard let word = peek else { throw SyntaxError(description: "expected \(expected), found the end of the line") }
            index += 1
            return word
        }

        mutating func expect(_ word: String) throws(SyntaxError) {
            let found = try next(word)
            guard found == word else { throw SyntaxError(description: "expected \(word), found \(found)") }
        }

        mutating func mac() throws(SyntaxError) -> MACAddress {
            let word = try next("a MAC address")
            guard let mac = MACAddress(word) else { throw SyntaxError(description: "not a MAC address: \(word)") }
            return mac
        }

        mutating func ipv4() throws(SyntaxError) -> IPv4Address {
            let word = try next("an IPv4 address")
            guard let address = IPv4Address(word) else { throw SyntaxError(description: "not an IPv4 address: \(word)") }
            return address
        }

        mutating func number<N: FixedWidthInteger>(_: N.Type) throws(SyntaxError) -> N {
            let word = try next("a number")
            guard let value = N(word) else { throw SyntaxError(description: "not a number in range: \(word)") }
            return value
        }
    }
}
