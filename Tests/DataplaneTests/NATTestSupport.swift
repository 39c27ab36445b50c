import PierBench
import Testing
import Wire
@testable import Dataplane

/// Packets for the conntrack and NAT tests, built through Wire's reprs (every checksum
/// computed whole), and a checker that recomputes every checksum from scratch: the oracle for
/// the incremental patches.
enum Packets {
    static let containerMAC = MACAddress(0x02, 0x42, 0xAC, 0x11, 0x00, 0x02)
    static let bridgeMAC = MACAddress(0x02, 0x42, 0xAC, 0x11, 0x00, 0x01)

    /// Ethernet + IPv4 (`proto`) around `l4`, which `fill` writes (its checksum included).
    static func ipv4(source: IPv4Address, destination: IPv4Address, proto: IPProtocol, l4Length: Int,
                     sourceMAC: MACAddress = containerMAC, destinationMAC: MACAddress = bridgeMAC,
                     fill: (inout MutableRawSpan) -> Void) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: EthernetHeader.length + IPv4Header.minimumLength + l4Length)
        bytes.withMutableRawSpan { span in
            EthernetRepr(destination: destinationMAC, source: sourceMAC, etherType: .ipv4).emit(into: &span)
            var ip = span.mutableSlice(from: EthernetHeader.length)
            IPv4Repr(source: source, destination: destination, protocol: proto, payloadLength: l4Length).emit(into: &ip)
            var l4 = ip.mutableSlice(from: IPv4Header.minimumLength)
            fill(&l4)
        }
        return bytes
    }

    /// A UDP datagram with `payload`; checksum zero (none) when `checksummed` is false.
    static func udp(_ source: IPv4Address, _ sourcePort: UInt16, _ destination: IPv4Address, _ destinationPort: UInt16,
                    payload: [UInt8] = Array("payload!".utf8), checksummed: Bool = true,
                    sourceMAC: MACAddress = containerMAC, destinationMAC: MACAddress = bridgeMAC) -> [UInt8] {
        let length = UDPHeader.length + payload.count
        return ipv4(source: source, destination: destination, proto: .udp, l4Length: length,
                    sourceMAC: sourceMAC, destinationMAC: destinationMAC) { l4 in
            for (index, byte) in payload.enumerated() { l4.setU8(byte, at: UDPHeader.length + index) }
            let sum = InternetChecksum.pseudoHeaderSum(source: source, destination: destination, protocol: .udp, length: length)
            UDPRepr(sourcePort: sourcePort, destinationPort: destinationPort).emit(into: &l4, pseudoHeaderSum: checksummed ? sum : nil)
        }
    }

    /// A TCP segment with `flags` and no data.
    static func tcp(_ source: IPv4Address, _ sourcePort: UInt16, _ destination: IPv4Address, _ destinationPort: UInt16,
                    flags: TCPFlags, sourceMAC: MACAddress = containerMAC, destinationMAC: MACAddress = bridgeMAC) -> [UInt8] {
        SyntheticFrames.tcp(sourceMAC: sourceMAC, destinationMAC: destinationMAC, source: source, destination: destination,
                            sourcePort: sourcePort, destinationPort: destinationPort, flags: flags)
    }

    /// An ICMP echo request or reply.
    static func echo(_ source: IPv4Address, _ destination: IPv4Address, identifier: UInt16, reply: Bool = false,
                     sourceMAC: MACAddress = containerMAC, destinationMAC: MACAddress = bridgeMAC) -> [UInt8] {
        ipv4(source: source, destination: destination, proto: .icmp, l4Length: 16, sourceMAC: sourceMAC, destinationMAC: destinationMAC) { l4 in
            ICMPv4Repr.echo(reply: reply, identifier: identifier, sequence: 1).emit(into: &l4)
        }
    }

    /// An ICMP error quoting the IP header and 8 bytes of the IP packet in `frame` (an
    /// Ethernet frame), as a router sends it (RFC 792).
    static func icmpError(type: ICMPv4Type, code: UInt8, _ source: IPv4Address, _ destination: IPv4Address,
                          quoting frame: [UInt8], sourceMAC: MACAddress = bridgeMAC, destinationMAC: MACAddress = containerMAC) -> [UInt8] {
        let quote = Array(frame[EthernetHeader.length...].prefix(28))
        return ipv4(source: source, destination: destination, proto: .icmp, l4Length: 8 + quote.count,
                    sourceMAC: sourceMAC, destinationMAC: destinationMAC) { l4 in
            for (index, byte) in quote.enumerated() { l4.setU8(byte, at: 8 + index) }
            ICMPv4Repr(type: type, code: code).emit(into: &l4)
        }
    }

    /// The IPv4 header and L4 checksums of an Ethernet/IPv4 frame, each recomputed over the
    /// whole header or segment: true when both verify (a UDP checksum of zero: not sent).
    static func checksumsVerify(_ bytes: [UInt8]) -> Bool {
        let frame = Frame(bytes: bytes)
        return checksumsVerify(frame)
    }

    static func checksumsVerify(_ frame: borrowing Frame) -> Bool {
        let all = frame.bytes
        guard let ip = try? IPv4Header(validating: all.slice(from: EthernetHeader.length)) else { return false }
        guard InternetChecksum.verify(all.slice(from: EthernetHeader.length, count: ip.headerLength)) else { return false }
        let l4Start = EthernetHeader.length + ip.headerLength
        let l4 = all.slice(from: l4Start, count: ip.totalLength - ip.headerLength)
        switch ip.protocol {
        case .icmp:
            return InternetChecksum.verify(l4)
        case .udp where l4.u16(at: UDPHeader.Field.checksum) == 0:
            return true
        default:
            let sum = InternetChecksum.pseudoHeaderSum(source: ip.source, destination: ip.destination, protocol: ip.protocol,
                                                       length: l4.byteCount)
            return InternetChecksum.verify(l4, initial: sum)
        }
    }
}
