import Dataplane
import Wire

/// The packets of a pcapng file read straight from the file mapped into memory (as
/// `MappedRecords` reads classic pcap): sections in either byte order, one after another;
/// interface descriptions with their link types, `if_name`, `if_tsresol`, `if_tsoffset` and
/// `if_fcslen`; enhanced, simple and obsolete packet blocks; statistics, name resolution,
/// custom and unknown blocks skipped.
///
/// A packet is a bounds check, a timestamp multiply (a division only for a resolution that
/// is no whole number of nanoseconds) and one copy into the frame: no allocation. Damage names
/// the block (its number, counting every block from the first section header, and its file
/// offset); the packets before it have been returned.
struct PcapNGRecords {
    /// The mapped file.
    let bytes: UnsafeRawBufferPointer
    /// Every interface described so far, across sections.
    private(set) var interfaces: [CaptureInterface] = []
    /// Per interface: nanoseconds per timestamp unit (0 when not a whole number), units per
    /// second and the offset in nanoseconds, read per packet.
    private var clocks: [Clock] = []
    /// The current section's byte order.
    private var isBigEndian = false { didSet { updateStraight() } }
    /// True when `plainEnhancedPacket` may run: a little-endian section (its loads need no
    /// byte-order test) and no filter.
    private var straight = true

    private mutating func updateStraight() { straight = !isBigEndian && onlyInterface < 0 && !skipsOutbound }
    /// The index in `interfaces` of the current section's first interface, and the number of
    /// interfaces the section has described so far.
    private var sectionBase = 0
    private var sectionInterfaces = 0
    /// The number of sections begun.
    private(set) var sections = 0
    /// The offset of the next block.
    private(set) var offset = 0
    /// The number of blocks read whole.
    private(set) var blocksRead = 0

    /// The packet last returned: its interface (an index in `interfaces`), direction, and
    /// whether it carried a timestamp (a simple packet block has none: it keeps the last one).
    private(set) var lastInterface = 0
    private(set) var lastDirection = CaptureDirection.unknown
    private(set) var lastHadTimestamp = true
    private var lastTimestamp = Timestamp.zero

    /// Only packets of this interface are returned (-1: all).
    var onlyInterface = -1 { didSet { updateStraight() } }
    /// Outbound-flagged packets are skipped and counted in `outboundSkipped`.
    var skipsOutbound = false { didSet { updateStraight() } }
    private(set) var outboundSkipped = 0
    /// A frame check sequence (`if_fcslen`) is cut off frames captured whole.
    var removesFCS = false

    struct Clock {
        var nanosecondsPerUnit: Int64
        var unitsPerSecond: UInt64
        var offset: Int64
    }

    /// What reading the next packet gave (as for classic pcap; damage is at block
    /// `blocksRead + 1`, at `offset`).
    typealias Outcome = MappedRecords.Outcome

    /// Where a packet block is, found by `nextPacketBlock`.
    private enum Step {
        case packet(type: UInt32, length: Int)
        case end
        case damaged(String)
    }

    /// Reads the blocks of `bytes`, a pcapng file from its first section header.
    init(bytes: UnsafeRawBufferPointer) {
        self.bytes = bytes
    }

    /// Copies the next packet into `frame` (bytes, timestamp, original length) and notes its
    /// interface and direction.
    @inline(__always)
    mutating func next(into frame: inout Frame) -> Outcome {
        if plainEnhancedPacket(into: &frame) { return .record }
        return nextBlock(into: &frame)
    }

    /// The common case in one straight path: an enhanced packet block of a known interface
    /// whose options are none or `epb_flags` alone, read with no filter. True when it was
    /// copied into `frame`; false leaves everything else (and every damage) to `nextBlock`.
    /// (Through `nextBlock` a packet cost 290 instructions, here about 150: a classic record
    /// costs 150.)
    @inline(__always)
    private mutating func plainEnhancedPacket(into frame: inout Frame) -> Bool {
        let start = offset
        guard straight, bytes.count - start >= PcapNG.Field.packetData + 4,
              le32(start + PcapNG.Field.type) == PcapNG.BlockType.enhancedPacket else { return false }
        let length = Int(le32(start + PcapNG.Field.length))
        let captured = Int(le32(start + PcapNG.Field.capturedLength))
        let local = Int(le32(start + PcapNG.Field.interface))
        let options = length - PcapNG.Field.packetData - PcapNG.padded(captured) - 4
        guard options == 0 || options == Self.flagsOptionsSize, length <= bytes.count - start,
              Int(le32(start + length - 4)) == length, local < sectionInterfaces,
              captured <= PcapReader.maximumCapturedLength else { return false }
        var direction = CaptureDirection.unknown
        if options > 0 {
            let option = start + length - 4 - options
            // epb_flags (code 2, 4 bytes), read as one little-endian word.
            guard le32(option) == UInt32(4) << 16 | UInt32(PcapNG.Option.packetFlags) else { return false }
            direction = CaptureDirection(rawValue: UInt8(le32(option + 4) & 3)) ?? .unknown
        }
        let interface = sectionBase + local
        stamp(interface: interface, at: start)
        deliver(from: start + PcapNG.Field.packetData, captured: captured,
                original: Int(le32(start + PcapNG.Field.originalLength)), into: &frame)
        lastInterface = interface
        lastDirection = direction
        blocksRead += 1
        offset = start + length
        return true
    }

    /// The little-endian 32-bit word at `position` (the straight path's sections only).
    @inline(__always)
    private func le32(_ position: Int) -> UInt32 {
        UInt32(littleEndian: bytes.loadUnaligned(fromByteOffset: position, as: UInt32.self))
    }

    /// `epb_flags` (8 bytes) and the end of options (4).
    private static let flagsOptionsSize = 12

    /// Sets `lastTimestamp` from the timestamp fields of the block at `start`, in `interface`'s units.
    @inline(__always)
    private mutating func stamp(interface: Int, at start: Int) {
        let clock = clocks[interface]
        let units = UInt64(u32(at: start + PcapNG.Field.timestampHigh)) << 32 | UInt64(u32(at: start + PcapNG.Field.timestampLow))
        let nanoseconds = clock.nanosecondsPerUnit != 0
            ? Int64(bitPattern: units) &* clock.nanosecondsPerUnit
            : Self.nanoseconds(units, per: clock.unitsPerSecond)
        lastTimestamp = Timestamp(nanoseconds: nanoseconds &+ clock.offset)
        lastHadTimestamp = true
    }

    /// Copies `captured` bytes at `data` into `frame`, with the last timestamp and `original`.
    @inline(__always)
    private func deliver(from data: Int, captured: Int, original: Int, into frame: inout Frame) {
        frame.replaceContents(with: UnsafeRawBufferPointer(rebasing: bytes[data..<(data + captured)]))
        frame.timestamp = lastTimestamp
        frame.originalLength = original
    }

    /// Every other block: walks to the next packet, reads it or reports the damage.
    @inline(never)
    private mutating func nextBlock(into frame: inout Frame) -> Outcome {
        while true {
            let step = nextPacketBlock()
            guard case .packet(let type, let length) = step else {
                if case .damaged(let problem) = step { return .damaged(problem) }
                return .end
            }
            if let problem = readPacket(type: type, length: length, into: &frame) { return .damaged(problem) }
            blocksRead += 1
            offset += length
            if onlyInterface >= 0 && lastInterface != onlyInterface { continue }
            if skipsOutbound && lastDirection == .outbound {
                outboundSkipped += 1
                continue
            }
            return .record
        }
    }

    /// Takes in the blocks before the first packet (the first interfaces); damage there is
    /// left for `next` to report.
    mutating func readToFirstPacket() {
        _ = nextPacketBlock()
    }

    /// What the rest of the file holds, without copying a packet: per interface the packets
    /// it has, and whether any carries a direction. Damage ends the walk (the reader reports it).
    mutating func survey() -> (packets: [Int], anyDirection: Bool) {
        var packets: [Int] = []
        var anyDirection = false
        while case .packet(let type, let length) = nextPacketBlock() {
            guard case .some((let interface, let direction)) = packetInterface(type: type, length: length) else { break }
            while packets.count < interfaces.count { packets.append(0) }
            packets[interface] += 1
            if direction != .unknown { anyDirection = true }
            blocksRead += 1
            offset += length
        }
        while packets.count < interfaces.count { packets.append(0) }
        return (packets, anyDirection)
    }

    /// Walks blocks, taking in section headers and interface descriptions and skipping what
    /// is no packet, up to the next packet block (left unread at `offset`). Inlined: the
    /// `Step` then costs nothing per packet.
    @inline(__always)
    private mutating func nextPacketBlock() -> Step {
        while true {
            let present = bytes.count - offset
            guard present > 0 else { return .end }
            guard present >= PcapNG.minimumBlockLength else {
                return .damaged("block header cut off: \(present) of \(PcapNG.minimumBlockLength) bytes present")
            }
            let type = u32(at: offset + PcapNG.Field.type)
            if type == PcapNG.BlockType.sectionHeader, let problem = beginSection() { return .damaged(problem) }
            if sections == 0 {
                return .damaged("missing section header: block type 0x\(String(type, radix: 16)) before any section header block")
            }
            let length = Int(u32(at: offset + PcapNG.Field.length))
            if length < PcapNG.minimumBlockLength || length % 4 != 0 {
                return .damaged("bad block length \(length) (a multiple of 4, at least \(PcapNG.minimumBlockLength))")
            }
            if length > present { return .damaged("block cut off: \(present) of \(length) bytes present") }
            let trailing = Int(u32(at: offset + length - 4))
            if trailing != length { return .damaged("block length \(length) and trailing length \(trailing) differ") }
            switch type {
            case PcapNG.BlockType.enhancedPacket, PcapNG.BlockType.simplePacket, PcapNG.BlockType.obsoletePacket:
                return .packet(type: type, length: length)
            case PcapNG.BlockType.interfaceDescription:
                if let problem = describeInterface(length: length) { return .damaged(problem) }
            default:
                break  // section header (taken in above), statistics, names, custom, unknown
            }
            blocksRead += 1
            offset += length
        }
    }

    /// Takes in the section header at `offset`: its byte order and version.
    private mutating func beginSection() -> String? {
        guard bytes.count - offset >= 16 else { return "section header cut off: \(bytes.count - offset) of 16 bytes present" }
        let magic = bytes.loadUnaligned(fromByteOffset: offset + PcapNG.Field.byteOrder, as: UInt32.self)
        switch magic {
        case PcapNG.byteOrderMagic.littleEndian: isBigEndian = false
        case PcapNG.byteOrderMagic.bigEndian: isBigEndian = true
        default: return "bad byte-order magic 0x\(String(UInt32(bigEndian: magic), radix: 16)) in the section header"
        }
        let major = u16(at: offset + PcapNG.Field.majorVersion)
        guard major == 1 else { return "section header of version \(major), not 1" }
        sections += 1
        sectionBase = interfaces.count
        sectionInterfaces = 0
        return nil
    }

    /// Takes in the interface description block at `offset`, `length` bytes long.
    private mutating func describeInterface(length: Int) -> String? {
        guard length >= 20 else { return "interface description of \(length) bytes, fewer than 20" }
        var interface = CaptureInterface(
            index: interfaces.count, section: sections, name: nil,
            linkType: LinkType(rawValue: UInt32(u16(at: offset + PcapNG.Field.linkType))),
            snapLength: Int(u32(at: offset + PcapNG.Field.snapLength)),
            unitsPerSecond: 1_000_000, offsetSeconds: 0, fcsLength: nil)
        let problem = forEachOption(from: offset + PcapNG.Field.interfaceOptions, to: offset + length - 4) { code, value in
            switch code {
            case PcapNG.Option.ifName:
                interface.name = String(decoding: value.prefix { $0 != 0 }, as: UTF8.self)
            case PcapNG.Option.ifTimestampResolution where value.count == 1:
                let exponent = value[0] & 0x7f
                if value[0] & 0x80 == 0 {
                    guard exponent <= 19 else { return "if_tsresol 10^-\(exponent) is finer than 64 bits can count" }
                    interface.unitsPerSecond = (0..<exponent).reduce(1) { power, _ in power * 10 }
                } else {
                    guard exponent <= 63 else { return "if_tsresol 2^-\(exponent) is finer than 64 bits can count" }
                    interface.unitsPerSecond = 1 << exponent
                }
            case PcapNG.Option.ifFCSLength where value.count == 1:
                interface.fcsLength = Int(value[0])
            case PcapNG.Option.ifTimestampOffset where value.count == 8:
                let raw = value.withUnsafeBytes { $0.loadUnaligned(as: UInt64.self) }
                interface.offsetSeconds = Int64(bitPattern: isBigEndian ? UInt64(bigEndian: raw) : UInt64(littleEndian: raw))
            default:
                break
            }
            return nil
        }
        if let problem { return problem }
        let units = interface.unitsPerSecond
        clocks.append(Clock(
            nanosecondsPerUnit: units <= 1_000_000_000 && 1_000_000_000 % units == 0 ? Int64(1_000_000_000 / units) : 0,
            unitsPerSecond: units, offset: interface.offsetSeconds &* 1_000_000_000))
        interfaces.append(interface)
        sectionInterfaces += 1
        return nil
    }

    /// Calls `body` with each option's code and value between `start` and `end`; the first
    /// problem it or the options' layout gives, or nil.
    private func forEachOption(from start: Int, to end: Int,
                               _ body: (UInt16, ArraySlice<UInt8>) -> String?) -> String? {
        var position = start
        while position + 4 <= end {
            let code = u16(at: position)
            let count = Int(u16(at: position + 2))
            if code == PcapNG.Option.end { return nil }
            guard position + 4 + count <= end else {
                return "option \(code) of \(count) bytes overruns its block"
            }
            let value = ArraySlice(UnsafeRawBufferPointer(rebasing: bytes[(position + 4)..<(position + 4 + count)]))
            if let problem = body(code, value) { return problem }
            position += 4 + PcapNG.padded(count)
        }
        return nil
    }

    /// The interface (an index in `interfaces`) and direction of the packet block at `offset`;
    /// nil when its interface is unknown.
    @inline(__always)
    private func packetInterface(type: UInt32, length: Int) -> (Int, CaptureDirection)? {
        let local = switch type {
        case PcapNG.BlockType.enhancedPacket: Int(u32(at: offset + PcapNG.Field.interface))
        case PcapNG.BlockType.obsoletePacket: Int(u16(at: offset + PcapNG.Field.interface))
        default: 0
        }
        guard local < sectionInterfaces else { return nil }
        var direction = CaptureDirection.unknown
        if type != PcapNG.BlockType.simplePacket {
            let captured = Int(u32(at: offset + PcapNG.Field.capturedLength))
            direction = flagsDirection(from: offset + PcapNG.Field.packetData + PcapNG.padded(captured), to: offset + length - 4)
        }
        return (sectionBase + local, direction)
    }

    /// The direction in a packet block's flags option, if the options hold one.
    @inline(__always)
    private func flagsDirection(from start: Int, to end: Int) -> CaptureDirection {
        guard start + 8 <= end else { return .unknown }
        var direction = CaptureDirection.unknown
        _ = forEachOption(from: start, to: end) { code, value in
            if code == PcapNG.Option.packetFlags && value.count == 4 {
                let raw = value.withUnsafeBytes { $0.loadUnaligned(as: UInt32.self) }
                let flags = isBigEndian ? UInt32(bigEndian: raw) : UInt32(littleEndian: raw)
                direction = CaptureDirection(rawValue: UInt8(flags & 3)) ?? .unknown
            }
            return nil
        }
        return direction
    }

    /// Copies the packet block at `offset` into `frame`; a problem with it, or nil.
    @inline(__always)
    private mutating func readPacket(type: UInt32, length: Int, into frame: inout Frame) -> String? {
        guard let (interface, direction) = packetInterface(type: type, length: length) else {
            let local = type == PcapNG.BlockType.enhancedPacket
                ? Int(u32(at: offset + PcapNG.Field.interface)) : Int(u16(at: offset + PcapNG.Field.interface))
            return "unknown interface \(local) (section \(sections) describes \(interfaces.count - sectionBase))"
        }
        var captured: Int, original: Int, data: Int
        if type == PcapNG.BlockType.simplePacket {
            original = Int(u32(at: offset + PcapNG.Field.simpleOriginalLength))
            data = offset + PcapNG.Field.simpleData
            let snap = interfaces[interface].snapLength
            captured = min(original, length - PcapNG.Field.simpleData - 4, snap == 0 ? Int.max : snap)
            lastHadTimestamp = false
        } else {
            captured = Int(u32(at: offset + PcapNG.Field.capturedLength))
            original = Int(u32(at: offset + PcapNG.Field.originalLength))
            data = offset + PcapNG.Field.packetData
            guard PcapNG.Field.packetData + PcapNG.padded(captured) + 4 <= length else {
                return "captured length \(captured) overruns the block of \(length) bytes"
            }
            stamp(interface: interface, at: offset)
        }
        if captured > PcapReader.maximumCapturedLength {
            return "captured length \(captured) exceeds \(PcapReader.maximumCapturedLength) (256 KiB)"
        }
        if removesFCS, let fcs = interfaces[interface].fcsLength, captured == original, captured >= fcs {
            captured -= fcs
            original -= fcs
        }
        deliver(from: data, captured: captured, original: original, into: &frame)
        lastInterface = interface
        lastDirection = direction
        return nil
    }

    /// `units` of `unitsPerSecond` in nanoseconds, for resolutions that are no whole number
    /// of nanoseconds (binary fractions, or finer than a nanosecond).
    private static func nanoseconds(_ units: UInt64, per unitsPerSecond: UInt64) -> Int64 {
        let (seconds, fraction) = units.quotientAndRemainder(dividingBy: unitsPerSecond)
        let product = fraction.multipliedFullWidth(by: 1_000_000_000)
        let (nanoseconds, _) = unitsPerSecond.dividingFullWidth(product)
        return Int64(bitPattern: seconds &* 1_000_000_000 &+ nanoseconds)
    }

    /// The 32-bit field at `position` in the section's byte order.
    @inline(__always)
    private func u32(at position: Int) -> UInt32 {
        let raw = bytes.loadUnaligned(fromByteOffset: position, as: UInt32.self)
        return isBigEndian ? UInt32(bigEndian: raw) : UInt32(littleEndian: raw)
    }

    /// The 16-bit field at `position` in the section's byte order.
    @inline(__always)
    private func u16(at position: Int) -> UInt16 {
        let raw = bytes.loadUnaligned(fromByteOffset: position, as: UInt16.self)
        return isBigEndian ? UInt16(bigEndian: raw) : UInt16(littleEndian: raw)
    }
}
