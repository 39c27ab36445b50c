import Wire

/// The numbers of the pcapng format (draft-ietf-opsawg-pcapng, "PCAP Next Generation Dump
/// File Format"), named once for the reader and the writer.
///
/// Every block is `type (4) | total length (4) | body | total length (4)`, the length a
/// multiple of 4 counting all of it; options are `code (2) | length (2) | value`, padded to
/// 32 bits and ended by code 0. Byte order is the section header's.
enum PcapNG {
    /// The block types read (§ 10.1). Name resolution (4), interface statistics (5),
    /// custom (0xBAD, and 0x40000BAD not to be copied) and unknown blocks are skipped.
    enum BlockType {
        static let sectionHeader: UInt32 = 0x0A0D_0D0A, interfaceDescription: UInt32 = 1
        static let obsoletePacket: UInt32 = 2, simplePacket: UInt32 = 3, enhancedPacket: UInt32 = 6
    }

    /// The section header's byte-order magic, as written in the section's byte order.
    static let byteOrderMagic: UInt32 = 0x1A2B_3C4D

    /// Offsets inside a block, from its first byte.
    enum Field {
        static let type = 0, length = 4
        /// Section header: byte-order magic, then major and minor version.
        static let byteOrder = 8, majorVersion = 12
        /// Interface description: link type (2), reserved (2), snap length (4), options.
        static let linkType = 8, snapLength = 12, interfaceOptions = 16
        /// Enhanced packet (and the obsolete packet block, whose interface is 16 bits
        /// followed by a 16-bit drop count): interface, timestamp high and low, captured
        /// length, original length, data.
        static let interface = 8, timestampHigh = 12, timestampLow = 16
        static let capturedLength = 20, originalLength = 24, packetData = 28
        /// Simple packet: original length, data.
        static let simpleOriginalLength = 8, simpleData = 12
    }

    /// The smallest block: type, length and the trailing length.
    static let minimumBlockLength = 12

    /// Option codes (§ 3.5 and the blocks' own): the end of options; the interface
    /// description's `if_name`, `if_tsresol`, `if_fcslen`, `if_tsoffset`; and `epb_flags`
    /// (the obsolete block's `pack_flags`), whose bits 0–1 are the direction.
    enum Option {
        static let end: UInt16 = 0, ifName: UInt16 = 2, ifTimestampResolution: UInt16 = 9
        static let ifFCSLength: UInt16 = 13, ifTimestampOffset: UInt16 = 14, packetFlags: UInt16 = 2
    }

    /// The length of `count` bytes padded to 32 bits.
    @inline(__always)
    static func padded(_ count: Int) -> Int { (count + 3) & ~3 }
}

/// Which way a frame crossed the interface it was captured on (the enhanced packet block's
/// `epb_flags` bits 0–1).
public enum CaptureDirection: UInt8, Sendable {
    /// Not recorded (dumpcap on Linux writes no flags).
    case unknown = 0
    /// Received by the interface.
    case inbound = 1
    /// Sent by the interface: what the node sent.
    case outbound = 2
}

/// One interface of a pcapng file (an interface description block): what its frames are
/// and how their timestamps count.
public struct CaptureInterface: Equatable, Sendable {
    /// The interface's index in the file, counting every section's interfaces in turn.
    public var index: Int
    /// The section (1-based) that describes it.
    public var section: Int
    /// Its `if_name` option (`eth0`), nil when absent.
    public var name: String?
    /// The link type of its frames.
    public var linkType: LinkType
    /// Its snap length (0: none).
    public var snapLength: Int
    /// Timestamp units per second (`if_tsresol`; 1,000,000 when absent).
    public var unitsPerSecond: UInt64
    /// Seconds added to every timestamp (`if_tsoffset`).
    public var offsetSeconds: Int64
    /// Bytes of frame check sequence at the end of each frame (`if_fcslen`), nil when absent.
    public var fcsLength: Int?

    /// The resolution the interface stores: nanoseconds when finer than a microsecond.
    public var precision: TimestampPrecision { unitsPerSecond > 1_000_000 ? .nanoseconds : .microseconds }

    /// `eth0`, or `interface 3` for an unnamed one.
    public var displayName: String { name ?? "interface \(index)" }
}
