import Wire

/// One packet, owning its bytes: a buffer with headroom in front of the data, the input port,
/// the capture metadata and the offsets of its layers once classified.
///
/// Frames are noncopyable (STYLE.md, principle 7): moving one is `consume`; a flood sends the
/// same borrowed frame to each port, and a held frame swaps places with a spare, so nothing
/// copies one. Encapsulation prepends into the headroom without moving the payload;
/// decapsulation advances the start.
public struct Frame: ~Copyable {
    /// Bytes kept free in front of the data of a fresh or reset frame, for encapsulation.
    public static let headroom = 128
    /// The buffer size of a pool frame: headroom plus a jumbo-capable 9,216-byte frame.
    public static let defaultCapacity = headroom + 9_216

    @usableFromInline var storage: UnsafeMutableRawPointer
    /// The buffer's size in bytes (headroom + data + tailroom).
    public private(set) var capacity: Int
    /// Where the data begins in the buffer.
    public private(set) var start: Int
    /// The number of bytes of data.
    public private(set) var count: Int

    /// The port the frame entered on.
    public var inputPort: PortID = .none
    /// The largest IP packet (header included) the frame may leave as: 0 leaves it whole;
    /// otherwise the output step cuts it into fragments of at most this many bytes. The defrag
    /// stage sets it to a reassembled datagram's largest fragment, the route stage to a
    /// tunnel's MTU for an IPv4 packet without DF that is longer. (Beside `inputPort`, in the
    /// padding after it: the frame does not grow.)
    public var fragmentLimit: Int32 = 0
    /// The frame's number in its input (1-based, for traces); 0 for frames Pier made.
    public var number = 0
    /// When the frame was captured (replay) or received (live).
    public var timestamp: Timestamp = .zero
    /// The frame's length on the wire; more than `count` when a capture cut it short.
    public var originalLength: Int = 0
    /// Offsets of the layers, set by classification.
    public var layers = LayerOffsets()
    /// What becomes of the frame, set by the stages.
    public var verdict = Verdict.pending
    /// Checksum and segmentation work the sending kernel left to the receiving one (TAP
    /// devices with offloads); `none` for every other frame.
    public var offload = SegmentOffload.none
    /// A reassembled datagram's fragments' payload lengths, meaningful while `fragmentLimit`
    /// is set (so a reset needs only clear that): the output step cuts it there when they fit.
    public var fragmentSizes = FragmentSizes()

    /// Makes an empty frame whose buffer holds `capacity` bytes.
    public init(capacity: Int = Frame.defaultCapacity) {
        precondition(capacity > Self.headroom, "a frame needs room beyond its headroom")
        storage = .allocate(byteCount: capacity, alignment: 64)
        self.capacity = capacity
        start = Self.headroom
        count = 0
    }

    /// Makes a frame holding a copy of `bytes`.
    public init(copying bytes: UnsafeRawBufferPointer) {
        self.init(capacity: max(Self.defaultCapacity, Self.headroom + bytes.count))
        replaceContents(with: bytes)
    }

    /// Makes a frame holding a copy of `bytes`, with `originalLength` equal to their count.
    public init(bytes: [UInt8]) {
        self.init(capacity: max(Self.defaultCapacity, Self.headroom + bytes.count))
        bytes.withUnsafeBytes { replaceContents(with: $0) }
        originalLength = bytes.count
    }

    deinit { storage.deallocate() }

    /// Room left in front of the data.
    @inlinable public var availableHeadroom: Int { start }
    /// Room left after the data.
    @inlinable public var availableTailroom: Int { capacity - start - count }

    /// The frame's bytes, read-only.
    public var bytes: RawSpan {
        @_lifetime(borrow self) get {
            let span = RawSpan(_unsafeStart: storage + start, byteCount: count)
            return _overrideLifetime(span, borrowing: self)
        }
    }

    /// The frame's bytes, writable in place.
    public var mutableBytes: MutableRawSpan {
        @_lifetime(&self) mutating get {
            let span = MutableRawSpan(_unsafeStart: storage + start, byteCount: count)
            return _overrideLifetime(span, mutating: &self)
        }
    }

    /// Calls `body` with the data as a raw buffer (for C APIs such as `write(2)` and libpcap).
    @inlinable
    public func withUnsafeBytes<R, E: Error>(_ body: (UnsafeRawBufferPointer) throws(E) -> R) throws(E) -> R {
        try body(UnsafeRawBufferPointer(start: storage + start, count: count))
    }

    /// Replaces the data with a copy of `bytes`, restoring the full headroom; grows the buffer
    /// when it is too small (once, for an unusually large frame; the pool keeps it).
    public mutating func replaceContents(with bytes: UnsafeRawBufferPointer) {
        if Self.headroom + bytes.count > capacity {
            storage.deallocate()
            capacity = Self.headroom + bytes.count
            storage = .allocate(byteCount: capacity, alignment: 64)
        }
        start = Self.headroom
        count = bytes.count
        if let base = bytes.baseAddress { (storage + start).copyMemory(from: base, byteCount: bytes.count) }
        layers = LayerOffsets()
    }

    /// Receives a frame in place: `body` gets the buffer's room after a full headroom, writes
    /// a frame there (a `read(2)` from a TAP device) and returns its length, which becomes the
    /// data; a negative result (an error) leaves the frame empty and is returned as is. The
    /// buffer is not cleared first, so a receive costs no more than the copy the kernel makes.
    public mutating func receive(_ body: (UnsafeMutableRawBufferPointer) -> Int) -> Int {
        start = Self.headroom
        layers = LayerOffsets()
        let received = body(UnsafeMutableRawBufferPointer(start: storage + start, count: capacity - start))
        count = received > 0 ? min(received, capacity - start) : 0
        return received
    }

    /// Makes the data `byteCount` zero bytes after a full headroom, for writing a new packet
    /// in place; grows the buffer if needed.
    public mutating func resetContents(count byteCount: Int) {
        if Self.headroom + byteCount > capacity {
            storage.deallocate()
            capacity = Self.headroom + byteCount
            storage = .allocate(byteCount: capacity, alignment: 64)
        }
        start = Self.headroom
        count = byteCount
        (storage + start).initializeMemory(as: UInt8.self, repeating: 0, count: byteCount)
        layers = LayerOffsets()
    }

    /// Adds `byteCount` bytes in front of the data, taken from the headroom; false when the
    /// headroom is too small. The new bytes are left as they were: the caller writes them.
    @discardableResult
    public mutating func prepend(_ byteCount: Int) -> Bool {
        guard byteCount <= start else { return false }
        start -= byteCount
        count += byteCount
        return true
    }

    /// Removes `byteCount` bytes from the front of the data (decapsulation).
    public mutating func removeFirst(_ byteCount: Int) {
        precondition(byteCount <= count, "removing more bytes than the frame holds")
        start += byteCount
        count -= byteCount
    }

    /// Keeps only the first `byteCount` bytes of the data.
    public mutating func truncate(to byteCount: Int) {
        precondition(byteCount <= count, "truncating beyond the frame's end")
        count = byteCount
    }

    /// Adds `byteCount` bytes after the data, taken from the tailroom; false when there is no room.
    @discardableResult
    public mutating func append(_ byteCount: Int) -> Bool {
        guard byteCount <= availableTailroom else { return false }
        count += byteCount
        return true
    }

    /// Clears the data and metadata for reuse, keeping the buffer.
    public mutating func reset() {
        start = Self.headroom
        count = 0
        inputPort = .none
        number = 0
        timestamp = .zero
        originalLength = 0
        layers = LayerOffsets()
        verdict = .pending
        offload = .none
        fragmentLimit = 0
    }
}

/// A port's index in the pipeline's port table.
public struct PortID: RawRepresentable, Hashable, Sendable, CustomStringConvertible {
    /// The index.
    public let rawValue: UInt16
    /// Makes a port identifier from its index.
    @inlinable public init(rawValue: UInt16) { self.rawValue = rawValue }
    /// No port: a frame the pipeline made itself.
    @inlinable public static var none: PortID { PortID(rawValue: .max) }
    /// The index in decimal, or `none`.
    public var description: String { self == .none ? "none" : String(rawValue) }
}

/// Offsets of a frame's layers from the start of its data, cached by classification so that
/// later stages need not parse again; `unknown` until set.
public struct LayerOffsets: Equatable, Sendable {
    /// An offset not yet known.
    public static let unknown: Int32 = -1
    /// The network header (IPv4, IPv6, ARP), after any VLAN tags.
    public var network: Int32 = unknown
    /// The transport header (TCP, UDP, ICMP).
    public var transport: Int32 = unknown
    /// The EtherType of the network header (0 when there is none).
    public var networkType = EtherType(rawValue: 0)
    /// The transport protocol (meaningful when `transport` is known).
    public var transportProtocol = IPProtocol(rawValue: 255)
    /// Makes unknown offsets.
    public init() {}

    /// The offsets of an untagged Ethernet frame: its network header (`type`) right after
    /// Ethernet, and when given the `transport` header `transportOffset` bytes into it.
    @inlinable
    public init(untagged type: EtherType, transport: IPProtocol? = nil, at transportOffset: Int = 0) {
        network = Int32(EthernetHeader.length)
        networkType = type
        if let transport {
            self.transport = Int32(EthernetHeader.length + transportOffset)
            transportProtocol = transport
        }
    }
}

/// A point in time, in nanoseconds since the Unix epoch (captures) or since boot (live).
public struct Timestamp: Comparable, Hashable, Sendable, CustomStringConvertible {
    /// Nanoseconds since the clock's origin.
    public var nanoseconds: Int64
    /// Makes a timestamp.
    @inlinable public init(nanoseconds: Int64) { self.nanoseconds = nanoseconds }
    /// Makes a timestamp from seconds and nanoseconds within the second.
    @inlinable public init(seconds: Int64, nanoseconds: Int64) { self.nanoseconds = seconds * 1_000_000_000 + nanoseconds }
    /// The origin.
    @inlinable public static var zero: Timestamp { Timestamp(nanoseconds: 0) }
    /// Whole seconds.
    public var seconds: Int64 { nanoseconds.quotientAndRemainder(dividingBy: 1_000_000_000).quotient }
    /// Nanoseconds within the second.
    public var subsecondNanoseconds: Int64 { nanoseconds - seconds * 1_000_000_000 }
    /// `seconds.nnnnnnnnn`, as Wireshark prints `frame.time_epoch`.
    public var description: String {
        let fraction = String(subsecondNanoseconds)
        return "\(seconds)." + String(repeating: "0", count: 9 - fraction.count) + fraction
    }
    public static func < (lhs: Timestamp, rhs: Timestamp) -> Bool { lhs.nanoseconds < rhs.nanoseconds }
}
