import CPierSupport
import Wire

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The connection table: every tracked connection, found by either direction's key, as
/// netfilter's conntrack hash and Open vSwitch's `conntrack.c` do.
///
/// What it does: inserts a connection under its original and its reply key (`insert`), finds
/// one by the key of a packet going either way (`find`), forgets expired connections
/// (`expire`, and lazily when `find` meets one), and evicts a connection that was never
/// assured when the table is full (`evictUnassured`). It does not know protocols or NAT: the
/// conntrack stage decides states and timeouts, and stores the rewrite each direction needs.
///
/// ## Layout
/// Records live in one array of `capacity` 56-byte `Connection`s, handed out in order and
/// then from a free list; the index is an open-addressing hash table with linear probing
/// over a power-of-two number of 8-byte slots, at least four per connection (two keys per connection, so the load
/// factor stays at or below 0.5). A slot holds the high 32 bits of the key's hash (its home
/// slot comes from them, and they filter most non-matches without touching the record) and
/// `record << 1 | direction`, plus one; zero is empty. Deletion shifts the rest of the probe
/// chain back (no tombstones). 1,000,000 connections take 56 MB of records, 4 MB of free
/// list and 32 MiB of index (4,194,304 slots): 93.6 bytes each (`pier bench conntrack`).
/// Nothing is allocated after `init`, and memory comes from `calloc`: pages are backed only
/// as connections fill them. For a batch, `prefetchSlot` then `prefetchRecord` start
/// the two cache misses of each lookup before any lookup waits on them.
///
/// Time is the caller's (the pipeline clock): a connection whose `expires` has passed is
/// absent to `find`, which removes it on the spot.
public final class ConntrackTable {
    /// One tracked connection: its two keys, its timer, its state, and the checksum deltas of
    /// the rewrite each direction needs (precomputed when the connection is made, RFC 1624).
    public struct Connection: Sendable {
        /// The key of the first packet, as it arrived.
        public var original: FlowKey
        /// The key replies arrive with (after NAT, the translated addresses and ports).
        public var reply: FlowKey
        /// When the connection expires, in nanoseconds of the pipeline clock.
        public var expires: Int64
        /// For a packet in the original direction: the IP header checksum delta (addresses)
        /// and the L4 checksum delta (pseudo-header addresses and ports, or ICMP identifier).
        public var originalIPDelta: UInt16
        /// The L4 checksum delta for the original direction.
        public var originalL4Delta: UInt16
        /// The IP header checksum delta for the reply direction.
        public var replyIPDelta: UInt16
        /// The L4 checksum delta for the reply direction.
        public var replyL4Delta: UInt16
        /// The TCP state (`TCPState.rawValue`); 0 for UDP and ICMP.
        public var state: UInt8
        /// `Flags` bits.
        public var flags: UInt8

        /// Makes an unused record.
        init() {
            original = FlowKey(addresses: 0, ports: 0)
            reply = original
            expires = 0
            originalIPDelta = 0
            originalL4Delta = 0
            replyIPDelta = 0
            replyL4Delta = 0
            state = 0
            flags = 0
        }

        /// The key of `direction`.
        @inlinable public func key(_ direction: FlowDirection) -> FlowKey { direction == .original ? original : reply }
        /// True when `flag` is set.
        @inlinable public func has(_ flag: Flags) -> Bool { flags & flag.rawValue != 0 }
        /// Sets `flag`.
        @inlinable public mutating func set(_ flag: Flags) { flags |= flag.rawValue }
        /// Clears `flag`.
        @inlinable public mutating func clear(_ flag: Flags) { flags &= ~flag.rawValue }
    }

    /// The bits of `Connection.flags`.
    public struct Flags: OptionSet, Sendable {
        /// The record holds a connection.
        @inlinable public static var inUse: Flags { Flags(rawValue: 1) }
        /// Seen in both directions and past its handshake: never evicted early (netfilter's ASSURED).
        @inlinable public static var assured: Flags { Flags(rawValue: 2) }
        /// A reply has been seen (netfilter's SEEN_REPLY; `[UNREPLIED]` until then).
        @inlinable public static var seenReply: Flags { Flags(rawValue: 4) }
        /// The last FIN came in the reply direction.
        @inlinable public static var finFromReply: Flags { Flags(rawValue: 8) }
        /// The source is translated (MASQUERADE).
        @inlinable public static var sourceNAT: Flags { Flags(rawValue: 16) }
        /// The destination is translated (a published port or a Service).
        @inlinable public static var destinationNAT: Flags { Flags(rawValue: 32) }
        /// The bit pattern.
        public let rawValue: UInt8
        /// Makes flags from their bits.
        @inlinable public init(rawValue: UInt8) { self.rawValue = rawValue }
    }

    /// Where `find` found a key: the record and the direction the key belongs to.
    public struct Hit: Sendable, Equatable {
        /// The record's index.
        public var index: Int
        /// The direction of the key.
        public var direction: FlowDirection
    }

    /// The most connections the table holds.
    public let capacity: Int
    /// Connections held now.
    public private(set) var count = 0
    private let records: UnsafeMutablePointer<Connection>
    private let freeList: UnsafeMutablePointer<UInt32>
    private var freeCount: Int
    /// Records below this index have been used at least once (sweeps stop here).
    private var highWater = 0
    private let slots: UnsafeMutablePointer<UInt64>
    private let slotMask: Int
    private let seed: UInt64
    private var evictionCursor = 0
    /// The full addresses of IPv6 connections, by record index (ConntrackTable+IPv6.swift):
    /// allocated at the first IPv6 connection, so an IPv4-only table pays nothing for it.
    var addresses6Storage: UnsafeMutablePointer<ConnectionAddresses6>?

    /// Makes an empty table for `capacity` connections.
    public init(capacity: Int, seed: UInt64 = 0x5EED_C0DE_F00D_1234) {
        precondition(capacity > 0 && capacity < 1 << 30, "conntrack capacity out of range")
        self.capacity = capacity
        self.seed = seed
        // Zeroed memory from calloc: an all-zero record is unused and an all-zero slot empty,
        // and the pages are only backed as the table fills, so a pipeline that tracks little
        // costs little. Records are handed out in order first, then from the free list.
        guard let recordMemory = calloc(capacity, MemoryLayout<Connection>.stride),
              let freeMemory = malloc(capacity * MemoryLayout<UInt32>.stride) else { fatalError("conntrack table: out of memory") }
        records = recordMemory.bindMemory(to: Connection.self, capacity: capacity)
        freeList = freeMemory.bindMemory(to: UInt32.self, capacity: capacity)
        freeCount = 0
        var slotCount = 16
        while slotCount < capacity * 4 { slotCount <<= 1 }
        guard let slotMemory = calloc(slotCount, MemoryLayout<UInt64>.stride) else { fatalError("conntrack table: out of memory") }
        slots = slotMemory.bindMemory(to: UInt64.self, capacity: slotCount)
        slotMask = slotCount - 1
    }

    deinit {
        free(records)
        free(freeList)
        free(slots)
        free(addresses6Storage)
    }

    /// Bytes the table holds: records, free list and index.
    public var memoryBytes: Int {
        capacity * (MemoryLayout<Connection>.stride + MemoryLayout<UInt32>.stride) + (slotMask + 1) * MemoryLayout<UInt64>.stride
            + (addresses6Storage == nil ? 0 : capacity * MemoryLayout<ConnectionAddresses6>.stride)
    }

    /// True when no connection can be added.
    public var isFull: Bool { freeCount == 0 && highWater == capacity }

    /// The record at `index`.
    public subscript(index: Int) -> Connection {
        get { records[index] }
        _modify { yield &records[index] }
    }

    /// The hash of `key` that places it in the index (its slot and tag): computed once per
    /// packet and handed to the prefetches and the lookup, which take it instead of the key.
    @inline(__always)
    public func tag(of key: FlowKey) -> UInt32 { UInt32(truncatingIfNeeded: key.hash(seed: seed) >> 32) }

    /// Starts loading the cache line of the home slot of the key with `tag` (first pass over a batch).
    @inline(__always)
    public func prefetchSlot(tag: UInt32) {
        pier_prefetch(UnsafeRawPointer(slots + Int(tag) & slotMask))
    }

    /// Starts loading the record of the first slot on the probe chain of the key with `tag`
    /// whose hash matches (second pass over a batch, once the slots are in cache).
    @inline(__always)
    public func prefetchRecord(tag: UInt32) {
        var position = Int(tag) & slotMask
        while true {
            let slot = slots[position]
            if slot == 0 { return }
            if UInt32(truncatingIfNeeded: slot >> 32) == tag {
                pier_prefetch(UnsafeRawPointer(records + (Int(truncatingIfNeeded: slot & 0xFFFF_FFFF) - 1) >> 1))
                return
            }
            position = (position + 1) & slotMask
        }
    }

    /// The connection `key` belongs to, and which way; nil when there is none or it expired
    /// before `now` (then it is removed).
    @inline(__always)
    public func find(_ key: FlowKey, now: Int64) -> Hit? {
        find(key, tag: tag(of: key), now: now)
    }

    /// `find` with the key's `tag(of:)` already computed.
    @inline(__always)
    public func find(_ key: FlowKey, tag: UInt32, now: Int64) -> Hit? {
        guard let hit = lookup(key, tag: tag) else { return nil }
        if records[hit.index].expires <= now {
            remove(hit.index)
            return nil
        }
        return hit
    }

    /// The connection `key` belongs to, expired or not.
    @inline(__always)
    public func lookup(_ key: FlowKey) -> Hit? { lookup(key, tag: tag(of: key)) }

    /// `lookup` with the key's `tag(of:)` already computed.
    @inline(__always)
    public func lookup(_ key: FlowKey, tag: UInt32) -> Hit? {
        var position = Int(tag) & slotMask
        while true {
            let slot = slots[position]
            if slot == 0 { return nil }
            if UInt32(truncatingIfNeeded: slot >> 32) == tag {
                let reference = Int(truncatingIfNeeded: slot & 0xFFFF_FFFF) - 1
                let index = reference >> 1
                let direction: FlowDirection = reference & 1 == 0 ? .original : .reply
                if records[index].key(direction) == key { return Hit(index: index, direction: direction) }
            }
            position = (position + 1) & slotMask
        }
    }

    /// True when some connection has `key` in either direction (expired ones included).
    public func contains(_ key: FlowKey) -> Bool { lookup(key) != nil }

    /// Adds a connection; returns its record index, or nil when the table is full or either
    /// key is already taken. The caller sets the rest of the record through the subscript.
    @discardableResult
    public func insert(original: FlowKey, reply: FlowKey, expires: Int64) -> Int? {
        guard !isFull, original != reply, lookup(original) == nil, lookup(reply) == nil else { return nil }
        let index: Int
        if freeCount > 0 {
            freeCount -= 1
            index = Int(freeList[freeCount])
        } else {
            index = highWater
            highWater += 1
        }
        var record = Connection()
        record.original = original
        record.reply = reply
        record.expires = expires
        record.flags = Flags.inUse.rawValue
        records[index] = record
        place(original, reference: UInt64(index << 1) + 1)
        place(reply, reference: UInt64(index << 1 | 1) + 1)
        count += 1
        return index
    }

    private func place(_ key: FlowKey, reference: UInt64) {
        let tag = tag(of: key)
        var position = Int(tag) & slotMask
        while slots[position] != 0 { position = (position + 1) & slotMask }
        slots[position] = UInt64(tag) << 32 | reference
    }

    /// Forgets the connection at `index`.
    public func remove(_ index: Int) {
        guard records[index].has(.inUse) else { return }
        unplace(records[index].original, reference: UInt64(index << 1) + 1)
        unplace(records[index].reply, reference: UInt64(index << 1 | 1) + 1)
        records[index].flags = 0
        freeList[freeCount] = UInt32(index)
        freeCount += 1
        count -= 1
    }

    /// Removes `key`'s slot and shifts the rest of its probe chain back.
    private func unplace(_ key: FlowKey, reference: UInt64) {
        var hole = Int(tag(of: key)) & slotMask
        while slots[hole] & 0xFFFF_FFFF != reference {
            if slots[hole] == 0 { return }
            hole = (hole + 1) & slotMask
        }
        slots[hole] = 0
        var next = hole
        while true {
            next = (next + 1) & slotMask
            let slot = slots[next]
            if slot == 0 { return }
            let home = Int(truncatingIfNeeded: slot >> 32) & slotMask
            // The entry may fill the hole unless its home lies cyclically in (hole, next].
            if (next - home) & slotMask >= (next - hole) & slotMask {
                slots[hole] = slot
                slots[next] = 0
                hole = next
            }
        }
    }

    /// Removes every connection that expired at or before `now`; returns how many.
    @discardableResult
    public func expire(now: Int64) -> Int {
        var removed = 0
        for index in 0..<highWater where records[index].has(.inUse) && records[index].expires <= now {
            remove(index)
            removed += 1
        }
        return removed
    }

    /// Frees a record for a new connection when the table is full: an expired connection, or
    /// else one that was never assured, looking at up to `budget` records from where the last
    /// search stopped (netfilter's `early_drop` looks at a few buckets the same way). Returns
    /// false when every record looked at is assured and live.
    public func evictUnassured(now: Int64, budget: Int = 256) -> Bool {
        guard highWater > 0 else { return false }
        for _ in 0..<min(budget, highWater) {
            let index = evictionCursor
            evictionCursor = (evictionCursor + 1) % highWater
            let record = records[index]
            if record.has(.inUse) && (record.expires <= now || !record.has(.assured)) {
                remove(index)
                return true
            }
        }
        return false
    }

    /// The indices of the connections in use, in record order.
    public func indices() -> [Int] {
        (0..<highWater).filter { records[$0].has(.inUse) }
    }
}
