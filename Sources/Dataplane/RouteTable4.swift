import Wire

/// IPv4 longest-prefix match: the route stage's question "which next hop serves this
/// destination?" (RFC 1812 §5.2.4.3), answered in at most three memory loads.
///
/// The table is a multibit trie with strides 16-8-8: a 65,536-slot first level indexed by the
/// address's top 16 bits, then 256-slot chunks for the third and fourth octets, reached only
/// under /16s (and /24s) that hold a longer prefix. A prefix is written into every slot it
/// covers at the level its length ends in (controlled prefix expansion: a /12 fills 16
/// first-level slots, a /20 16 slots of one chunk), and each slot remembers the length of the
/// prefix that wrote it, so a shorter prefix never overwrites a longer one whatever the order
/// of insertion.
///
///     address   a.b . c . d
///               ├16─┤├8┤├8┤
///     level 1   [a.b] ──► route, or chunk k
///     chunk k        [c] ──► route, or chunk m
///     chunk m            [d] ──► route
///
/// A dictionary beside the trie keeps the prefixes as inserted: removing one repaints its slots
/// with the longest shorter prefix that covers it, and a chunk whose 256 slots end up equal is
/// folded back into its parent slot and reused.
///
/// Next hops are `UInt32` indices into an array the caller owns. The table is noncopyable (it
/// owns its trie, like `Batch`): keep it in the pipeline and pass it `borrowing`. Mutations
/// must not run concurrently with lookups.
///
/// Not yet: equal-cost multipath, metrics or several routes per prefix, and freeing the chunk
/// storage once it has grown (freed chunks are reused, not returned).
public struct RouteTable4: ~Copyable {
    /// Slots in the first level: one per /16.
    static var level1Count: Int { 1 << 16 }
    /// Slots in a chunk: one per value of an octet.
    static var chunkSize: Int { 1 << 8 }

    /// The first level, indexed by the top 16 bits of the address.
    @usableFromInline let level1: UnsafeMutablePointer<Entry>
    /// Every chunk, back to back: chunk `k` is slots `k * 256 ..< (k + 1) * 256`.
    @usableFromInline var chunks: UnsafeMutablePointer<Entry>
    /// The number of chunks `chunks` has room for.
    private var chunkCapacity = 16
    /// Chunks handed out so far, free ones included.
    private var chunksMade = 0
    /// Chunks folded back into their parent, ready for reuse.
    private var freeChunks: [UInt32] = []
    /// The routes as inserted, by canonical prefix: the source of truth the trie is painted from.
    private var prefixes: [IPv4Prefix: UInt32] = [:]

    /// Makes an empty table: 512 KiB for the first level and 32 KiB of room for 16 chunks.
    public init() {
        level1 = .allocate(capacity: Self.level1Count)
        level1.initialize(repeating: .empty, count: Self.level1Count)
        chunks = .allocate(capacity: chunkCapacity * Self.chunkSize)
    }

    deinit {
        level1.deallocate()
        chunks.deallocate()
    }

    /// The number of prefixes in the table.
    public var count: Int { prefixes.count }

    /// The bytes allocated for the trie: the first level and the chunk storage, spare room
    /// included (the prefix dictionary is not counted).
    public var memoryBytes: Int {
        (Self.level1Count + chunkCapacity * Self.chunkSize) * MemoryLayout<Entry>.stride
    }

    /// Chunks in use (made and not folded back); for tests and reports.
    var chunksInUse: Int { chunksMade - freeChunks.count }

    /// The next hop of the longest prefix containing `address`, or nil when none does.
    ///
    /// The per-packet path: at most three loads, no allocation, no reference counting. The
    /// loads are unchecked pointer reads, in bounds by construction (16 bits index 65,536
    /// slots; 8 bits index a 256-slot chunk that a child entry names). With 10,000 prefixes
    /// (release, one core of a 2-core VM) it measured 280-590 Mpps for uniform random
    /// addresses and 50-105 Mpps for addresses inside the prefixes; the same loop over
    /// bounds-checked arrays was 0-30 % slower, within the VM's noise. Cache misses, not
    /// checks, set the speed: the pointers are here so that the table owns its trie without
    /// copy-on-write.
    @inlinable @inline(__always)
    public func lookup(_ address: IPv4Address) -> UInt32? {
        let bits = address.rawValue
        var entry = level1[Int(truncatingIfNeeded: bits >> 16)]
        if entry.isChild {
            entry = chunks[entry.chunk << 8 | Int(truncatingIfNeeded: bits >> 8 & 0xFF)]
            if entry.isChild {
                entry = chunks[entry.chunk << 8 | Int(truncatingIfNeeded: bits & 0xFF)]
            }
        }
        return entry.isRoute ? entry.nextHop : nil
    }

    /// Routes `prefix` to `nextHop`, replacing the next hop of an identical prefix. Host bits
    /// in `prefix` are ignored: 10.1.2.3/8 is 10.0.0.0/8.
    public mutating func insert(_ prefix: IPv4Prefix, nextHop: UInt32) {
        let route = prefix.canonical
        prefixes[route] = nextHop
        let entry = Entry(nextHop: nextHop, length: route.length)
        // Every slot the prefix covers, unless a longer prefix holds it.
        paint(route, with: entry, replacing: 0...entry.lengthTag)
    }

    /// Removes `prefix` (host bits ignored), giving its addresses back to the longest shorter
    /// prefix that covers them; a prefix not in the table is ignored.
    public mutating func remove(_ prefix: IPv4Prefix) {
        let route = prefix.canonical
        guard prefixes.removeValue(forKey: route) != nil else { return }
        let removedTag = Entry.lengthTag(route.length)
        // Slots tagged with the removed length inside its range are exactly the ones it wrote.
        paint(route, with: coveringEntry(of: route), replacing: removedTag...removedTag)
    }

    /// Every route, ordered by network address, then by prefix length (shorter first).
    public func routes() -> [(IPv4Prefix, UInt32)] {
        prefixes.map { ($0.key, $0.value) }
            .sorted { ($0.0.address, $0.0.length) < ($1.0.address, $1.0.length) }
    }

    // MARK: Updates

    /// The entry of the longest prefix shorter than `route` that contains it, or `.empty`.
    private func coveringEntry(of route: IPv4Prefix) -> Entry {
        var length = route.length - 1
        while length >= 0 {
            let candidate = IPv4Prefix(address: route.address, length: length).canonical
            if let nextHop = prefixes[candidate] { return Entry(nextHop: nextHop, length: length) }
            length -= 1
        }
        return .empty
    }

    /// Writes `entry` into the slots `route` covers whose length tag is in `tags`, descending
    /// into the chunks below them, then folds the chunks on the path that became uniform.
    private mutating func paint(_ route: IPv4Prefix, with entry: Entry, replacing tags: ClosedRange<UInt64>) {
        let network = Int(truncatingIfNeeded: route.network.rawValue)
        let top = network >> 16, third = network >> 8 & 0xFF, fourth = network & 0xFF
        switch route.length {
        case ...16:
            let span = 1 << (16 - route.length)
            repaint(level1 + top, count: span, with: entry, replacing: tags)
        case ...24:
            let chunk = childChunk(of: level1 + top)
            let span = 1 << (24 - route.length)
            repaint(chunks + (chunk << 8 | third), count: span, with: entry, replacing: tags)
            foldIfUniform(chunk, into: level1 + top)
        default:
            let middle = childChunk(of: level1 + top)
            // A slot's index, not its address: making the last chunk may move `chunks`.
            let middleSlot = middle << 8 | third
            let last = childChunk(ofChunkSlot: middleSlot)
            let span = 1 << (32 - route.length)
            repaint(chunks + (last << 8 | fourth), count: span, with: entry, replacing: tags)
            foldIfUniform(last, into: chunks + middleSlot)
            foldIfUniform(middle, into: level1 + top)
        }
    }

    /// Writes `entry` into the `count` slots from `start` whose length tag is in `tags`, and
    /// into the chunks below any of them. Chunks are at most two deep.
    private func repaint(_ start: UnsafeMutablePointer<Entry>, count: Int, with entry: Entry,
                         replacing tags: ClosedRange<UInt64>) {
        let lowest = tags.lowerBound, highest = tags.upperBound
        for index in 0..<count {
            let current = start[index]
            if current.isChild {
                repaint(chunks + (current.chunk << 8), count: Self.chunkSize, with: entry, replacing: tags)
            } else if current.lengthTag >= lowest, current.lengthTag <= highest {
                start[index] = entry
            }
        }
    }

    /// The chunk below the first-level slot `slot`, made from the slot's entry if there is none.
    private mutating func childChunk(of slot: UnsafeMutablePointer<Entry>) -> Int {
        if slot.pointee.isChild { return slot.pointee.chunk }
        let chunk = makeChunk(filledWith: slot.pointee)
        slot.pointee = .child(chunk)
        return chunk
    }

    /// The chunk below chunk slot number `slot`, made from the slot's entry if there is none.
    private mutating func childChunk(ofChunkSlot slot: Int) -> Int {
        if chunks[slot].isChild { return chunks[slot].chunk }
        let chunk = makeChunk(filledWith: chunks[slot])
        chunks[slot] = .child(chunk)
        return chunk
    }

    /// A chunk whose 256 slots all hold `entry`: a free one, or a new one (which may move
    /// `chunks`, growing it by half).
    private mutating func makeChunk(filledWith entry: Entry) -> Int {
        let chunk: Int
        if let free = freeChunks.popLast() {
            chunk = Int(free)
        } else {
            if chunksMade == chunkCapacity {
                let capacity = chunkCapacity + chunkCapacity / 2
                precondition(capacity <= Int(Entry.chunkLimit), "route table has too many chunks")
                let grown = UnsafeMutablePointer<Entry>.allocate(capacity: capacity * Self.chunkSize)
                grown.moveInitialize(from: chunks, count: chunksMade * Self.chunkSize)
                chunks.deallocate()
                chunks = grown
                chunkCapacity = capacity
            }
            chunk = chunksMade
            chunksMade += 1
        }
        (chunks + (chunk << 8)).initialize(repeating: entry, count: Self.chunkSize)
        return chunk
    }

    /// Puts `chunk`'s entry back into `parent` and frees the chunk when its 256 slots hold the
    /// same route (or none): every address below the parent then has the same answer.
    private mutating func foldIfUniform(_ chunk: Int, into parent: UnsafeMutablePointer<Entry>) {
        let slots = chunks + (chunk << 8)
        let first = slots.pointee
        guard !first.isChild else { return }
        for index in 1..<Self.chunkSize where slots[index] != first { return }
        parent.pointee = first
        freeChunks.append(UInt32(chunk))
    }
}

extension RouteTable4: @unchecked Sendable {}  // owns its memory alone; moving it moves the trie

extension RouteTable4 {
    /// One trie slot in 64 bits: empty (all zero), a route, or a child chunk.
    ///
    ///     route   0 | 0… | length + 1 (bits 32-37) | next hop (bits 0-31)
    ///     child   1 | 0…                           | chunk index (bits 0-31)
    ///
    /// Storing the length + 1 makes a route never zero and lets an empty slot compare as the
    /// shortest of all.
    @usableFromInline
    struct Entry: Equatable {
        @usableFromInline var rawValue: UInt64

        @inlinable init(rawValue: UInt64) { self.rawValue = rawValue }

        /// A route to `nextHop` written by a prefix of `length` bits.
        init(nextHop: UInt32, length: Int) {
            rawValue = UInt64(Self.lengthTag(length)) << 32 | UInt64(nextHop)
        }

        /// The slot of no route.
        static var empty: Entry { Entry(rawValue: 0) }

        /// A slot pointing at chunk `index`.
        static func child(_ index: Int) -> Entry { Entry(rawValue: childFlag | UInt64(index)) }

        @inlinable static var childFlag: UInt64 { 1 << 63 }
        /// The most chunks a child entry can name.
        static var chunkLimit: UInt64 { 1 << 32 }

        /// The length tag of a prefix of `length` bits: `length + 1`, so that empty is 0.
        static func lengthTag(_ length: Int) -> UInt64 { UInt64(length + 1) }

        /// True when the slot points at a chunk.
        @inlinable var isChild: Bool { rawValue & Self.childFlag != 0 }
        /// True when a slot that is not a child holds a route (is not empty).
        @inlinable var isRoute: Bool { rawValue != 0 }
        /// The chunk a child slot points at.
        @inlinable var chunk: Int { Int(truncatingIfNeeded: UInt32(truncatingIfNeeded: rawValue)) }
        /// The next hop of a route slot.
        @inlinable var nextHop: UInt32 { UInt32(truncatingIfNeeded: rawValue) }
        /// The length tag of a route slot; 0 when empty.
        var lengthTag: UInt64 { rawValue >> 32 }
    }
}
