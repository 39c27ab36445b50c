/// An ARP packet (RFC 826):
///
/// ```
///  0                   1                   2                   3
///  0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1 2 3 4 5 6 7 8 9 0 1
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |         Hardware type         |         Protocol type         |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |  HW size (6)  | Proto size (4)|           Operation           |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// |  Sender hardware address (HW size) | Sender protocol address  |
/// |  Target hardware address (HW size) | Target protocol address  |
/// +-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+-+
/// ```
///
/// The view accepts any address sizes that fit the bytes; only Ethernet/IPv4 ARP
/// (`isEthernetIPv4`) has the typed address accessors and a `Repr`.
public struct ARPPacket: ~Escapable {
    /// Byte offsets of the fixed fields and of the Ethernet/IPv4 addresses.
    public enum Field {
        public static let hardwareType = 0
        public static let protocolType = 2
        public static let hardwareSize = 4
        public static let protocolSize = 5
        public static let operation = 6
        public static let senderHardware = 8
        public static let senderProtocol = 14
        public static let targetHardware = 18
        public static let targetProtocol = 24
    }

    /// The fixed part's length in bytes.
    public static let fixedLength = 8
    /// The whole length of an Ethernet/IPv4 ARP packet.
    public static let ethernetIPv4Length = 28

    /// The packet's bytes.
    public let bytes: RawSpan

    /// Checks that `bytes` holds the fixed part and the four addresses its sizes announce.
    @inlinable
    @_lifetime(copy bytes)
    public init(validating bytes: RawSpan) throws(WireError) {
        try bytes.require(Self.fixedLength)
        let addresses = 2 * (Int(bytes.u8(at: Field.hardwareSize)) + Int(bytes.u8(at: Field.protocolSize)))
        try bytes.require(Self.fixedLength + addresses)
        self.bytes = bytes
    }

    /// The hardware type (1 for Ethernet).
    @inlinable public var hardwareType: UInt16 { bytes.u16(at: Field.hardwareType) }
    /// The protocol type, an EtherType (0x0800 for IPv4).
    @inlinable public var protocolType: EtherType { EtherType(rawValue: bytes.u16(at: Field.protocolType)) }
    /// The hardware address size in bytes.
    @inlinable public var hardwareSize: Int { Int(bytes.u8(at: Field.hardwareSize)) }
    /// The protocol address size in bytes.
    @inlinable public var protocolSize: Int { Int(bytes.u8(at: Field.protocolSize)) }
    /// The operation: 1 request, 2 reply.
    @inlinable public var operation: ARPOperation { ARPOperation(rawValue: bytes.u16(at: Field.operation)) }

    /// True for Ethernet hardware (type 1, size 6) and IPv4 protocol addresses (0x0800, size 4).
    @inlinable public var isEthernetIPv4: Bool {
        hardwareType == 1 && protocolType == .ipv4 && hardwareSize == 6 && protocolSize == 4
    }

    /// True when the protocol addresses are IPv4 (0x0800, size 4), whatever the hardware.
    @inlinable public var hasIPv4Addresses: Bool { protocolType == .ipv4 && protocolSize == 4 }

    /// The sender's IPv4 address; only when `hasIPv4Addresses`.
    @inlinable public var senderIPv4: IPv4Address { bytes.ipv4(at: Field.senderHardware + hardwareSize) }
    /// The target's IPv4 address; only when `hasIPv4Addresses`.
    @inlinable public var targetIPv4: IPv4Address { bytes.ipv4(at: Field.senderHardware + 2 * hardwareSize + 4) }
    /// The sender's MAC address; only when `isEthernetIPv4`.
    @inlinable public var senderMAC: MACAddress { bytes.mac(at: Field.senderHardware) }
    /// The target's MAC address; only when `isEthernetIPv4`.
    @inlinable public var targetMAC: MACAddress { bytes.mac(at: Field.targetHardware) }
}

/// An ARP operation code: open, so unknown values survive.
public struct ARPOperation: RawRepresentable, Hashable, Sendable {
    /// The 16-bit value on the wire.
    public let rawValue: UInt16
    /// Makes an operation from its value.
    @inlinable public init(rawValue: UInt16) { self.rawValue = rawValue }
    /// A request: who has the target address?
    @inlinable public static var request: ARPOperation { ARPOperation(rawValue: 1) }
    /// A reply: the sender has the sender address.
    @inlinable public static var reply: ARPOperation { ARPOperation(rawValue: 2) }
}

/// The fields of an Ethernet/IPv4 ARP packet, to parse and emit.
public struct ARPRepr: Equatable, Sendable {
    /// Request or reply.
    public var operation: ARPOperation
    /// The sender's MAC address.
    public var senderMAC: MACAddress
    /// The sender's IPv4 address.
    public var senderIP: IPv4Address
    /// The target's MAC address (zero in a request).
    public var targetMAC: MACAddress
    /// The target's IPv4 address.
    public var targetIP: IPv4Address

    /// Makes a packet from its fields.
    public init(operation: ARPOperation, senderMAC: MACAddress, senderIP: IPv4Address,
                targetMAC: MACAddress, targetIP: IPv4Address) {
        self.operation = operation
        self.senderMAC = senderMAC
        self.senderIP = senderIP
        self.targetMAC = targetMAC
        self.targetIP = targetIP
    }

    /// Reads a validated packet; throws for anything but Ethernet/IPv4 ARP.
    public init(_ packet: borrowing ARPPacket) throws(WireError) {
        guard packet.isEthernetIPv4 else { throw .malformed(.notEthernetIPv4ARP) }
        self.init(operation: packet.operation, senderMAC: packet.senderMAC, senderIP: packet.senderIPv4,
                  targetMAC: packet.targetMAC, targetIP: packet.targetIPv4)
    }

    /// Writes the 28-byte packet at the start of `bytes`.
    @_lifetime(bytes: copy bytes)
    public func emit(into bytes: inout MutableRawSpan) {
        precondition(bytes.byteCount >= ARPPacket.ethernetIPv4Length, "no room for an ARP packet")
        bytes.setU16(1, at: ARPPacket.Field.hardwareType)
        bytes.setU16(EtherType.ipv4.rawValue, at: ARPPacket.Field.protocolType)
        bytes.setU8(6, at: ARPPacket.Field.hardwareSize)
        bytes.setU8(4, at: ARPPacket.Field.protocolSize)
        bytes.setU16(operation.rawValue, at: ARPPacket.Field.operation)
        bytes.setMAC(senderMAC, at: ARPPacket.Field.senderHardware)
        bytes.setIPv4(senderIP, at: ARPPacket.Field.senderProtocol)
        bytes.setMAC(targetMAC, at: ARPPacket.Field.targetHardware)
        bytes.setIPv4(targetIP, at: ARPPacket.Field.targetProtocol)
    }
}
