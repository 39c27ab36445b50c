import CPierSupport
import Wire

/// The MAC learning table (forwarding database) of one bridge, as Linux's bridge keeps it for
/// docker0 or cni0: which port each station was last seen on, forgotten after the ageing time.
///
/// What it does: learns source MACs (`learn`), answers destination lookups (`lookup`), holds
/// static entries (`addStatic`), removes aged entries (`expire`), and lists itself for
/// `pier fdb` (`entries`). What it does not do yet: VLANs (one table per bridge, no VID in the
/// key), locked ports, sticky-but-dynamic entries, notifications of changes.
///
/// ## Layout
/// An open-addressing hash table with linear probing over a power-of-two number of slots, at
/// least twice `capacity`, so the load factor never passes 0.5. A slot is 16 bytes: the MAC in
/// the low 48 bits of one `UInt64` with the port in the high 16, and the time it was last
/// learned in nanoseconds. A slot whose first word is zero is empty: 00:00:00:00:00:00 is never
/// stored (Linux drops frames with that source). Deletion shifts the rest of the probe chain
/// back (no tombstones), so a lookup stops at the first empty slot. The slots are 64-byte
/// aligned, four to a cache line: `prefetch(_:)` loads the home slot's line, and at a load
/// factor of 0.5 most probes end inside it.
///
/// ## Semantics (Linux's `br_fdb_update`, `br_fdb_find_rcu`, `br_fdb_cleanup`)
/// - Learning a known station refreshes its time; learning it on another port moves it.
/// - Group (multicast, broadcast) and all-zero source MACs are never learned.
/// - An entry not learned for `ageing` seconds counts as absent: `lookup` misses it, `learn`
///   makes it anew, `entries` leaves it out. It keeps its slot until `expire(now:)` removes it.
///   `ageing` 0 means entries never age. (Linux with ageing_time 0 stops learning altogether;
///   here it keeps learning and never forgets.)
/// - Static entries never age and are never moved by learning (like Linux's local and sticky
///   entries; a plain Linux static entry could be moved).
/// - At most `capacity` entries, static and aged ones included (Linux's `fdb_max_learned`
///   counts learned entries only; here the bound also bounds the table's memory). When a new
///   station would exceed it, the table first removes every aged entry (a full `expire`) if it
///   has not done so in the last second of table time (the rate limit keeps a MAC flood against
///   a full table from sweeping on every frame); if still full, the station is not learned
///   (`.full`) and the caller keeps forwarding, flooding frames for it. Nothing still fresh is
///   ever evicted. What is reclaimed depends only on the sequence of calls and their times,
///   never on the hash seed, so a replay learns the same way every time.
///
/// One table belongs to one pipeline thread; it is not shared.
public final class FDB {
    /// One slot: 16 bytes.
    @usableFromInline
    struct Slot {
        /// The MAC in bits 0–47 and the port in bits 48–63; zero for an empty slot.
        @usableFromInline var word: UInt64
        /// When the entry was last learned, in nanoseconds; `Slot.permanent` for a static entry.
        @usableFromInline var seen: Int64

        @inlinable init(word: UInt64, seen: Int64) {
            self.word = word
            self.seen = seen
        }

        /// The `seen` of a static entry.
        @inlinable static var permanent: Int64 { .max }
        /// The low 48 bits: the MAC.
        @inlinable static var keyMask: UInt64 { 0xFFFF_FFFF_FFFF }

        @inlinable var key: UInt64 { word & Self.keyMask }
        @inlinable var port: PortID { PortID(rawValue: UInt16(truncatingIfNeeded: word >> 48)) }
        @inlinable var isEmpty: Bool { word == 0 }
        @inlinable var isStatic: Bool { seen == Self.permanent }
    }

    /// What `learn` did with a source address.
    public enum LearnResult: Hashable, Sendable {
        /// The station was not known (or its entry had aged): it is now.
        case new
        /// The station was known on this port: its time is refreshed.
        case refreshed
        /// The station was known on another port: it now maps to the new one.
        case moved(from: PortID)
        /// The table is at capacity with nothing aged to reclaim: the station was not learned.
        case full
        /// Not learned by rule: a group or all-zero MAC, a static entry, or no input port.
        case ignored
    }

    /// One line of `pier fdb`, like one of `bridge fdb show`.
    public struct Entry: Equatable, Sendable {
        /// The station's address.
        public var mac: MACAddress
        /// The port it is reached through.
        public var port: PortID
        /// True for an entry from the configuration, which neither ages nor moves.
        public var isStatic: Bool
        /// Whole seconds since the entry was last learned; 0 for a static entry.
        public var ageSeconds: Int64

        /// Makes an entry.
        public init(mac: MACAddress, port: PortID, isStatic: Bool, ageSeconds: Int64) {
            self.mac = mac
            self.port = port
            self.isStatic = isStatic
            self.ageSeconds = ageSeconds
        }
    }

    /// The slots, `mask + 1` of them, 64-byte aligned.
    @usableFromInline let slots: UnsafeMutablePointer<Slot>
    /// The number of slots minus one (a power of two minus one).
    @usableFromInline let mask: Int
    /// 64 minus log2 of the number of slots: the hash's top bits pick the home slot.
    @usableFromInline let shift: UInt64
    /// Mixed into every key, so that which MACs collide is hard to predict from outside (a MAC
    /// flood crafted to build long probe chains).
    @usableFromInline let seed: UInt64
    /// The ageing time in nanoseconds; `Int64.max` when entries never age.
    @usableFromInline let ageingNanoseconds: Int64
    /// When a full table may next sweep aged entries on its own, in nanoseconds.
    @usableFromInline var nextSweep = Int64.min

    /// The most entries the table holds, static ones included.
    public let capacity: Int
    /// The ageing time in seconds; 0 means entries never age.
    public let ageing: Int64
    /// The entries held, static and aged-but-not-yet-expired ones included.
    public var count: Int { storedCount }
    /// `count`, settable from the inlined hot path.
    @usableFromInline var storedCount = 0

    /// The minimum gap between two sweeps that a full table makes on its own: one second.
    @inlinable static var sweepInterval: Int64 { 1_000_000_000 }

    /// Makes an empty table for up to `capacity` entries that forgets a station after `ageing`
    /// seconds without a frame from it (0: never). `seed` varies the hash; the default is random.
    public init(capacity: Int = 4_096, ageing: Int64 = 300, seed: UInt64 = .random(in: .min ... .max)) {
        precondition(capacity > 0, "an FDB needs room for at least one entry")
        precondition(ageing >= 0, "the ageing time cannot be negative")
        self.capacity = capacity
        self.ageing = ageing
        // Int64.max / 1e9 s is 292 years: longer ageing times are as good as never.
        ageingNanoseconds = ageing == 0 || ageing > Int64.max / 1_000_000_000 ? .max : ageing * 1_000_000_000
        var slotCount = 16
        while slotCount < 2 * capacity { slotCount *= 2 }
        mask = slotCount - 1
        shift = UInt64(64 - slotCount.trailingZeroBitCount)
        self.seed = seed
        let raw = UnsafeMutableRawPointer.allocate(byteCount: slotCount * MemoryLayout<Slot>.stride, alignment: 64)
        slots = raw.initializeMemory(as: Slot.self, repeating: Slot(word: 0, seen: 0), count: slotCount)
    }

    deinit { slots.deallocate() }

    /// The bytes the table allocated: its slots.
    public var memoryBytes: Int { (mask + 1) * MemoryLayout<Slot>.stride }

    // MARK: The hot path

    /// The slot at `index`, which the caller has masked with `mask`.
    ///
    /// The only place that touches the slots. Loads and stores through it are unchecked
    /// because every index is reduced with `& mask` first, so it is always in range. The same
    /// table over a `ContiguousArray` (a bounds check per probe, a uniqueness check per store)
    /// measured 25 ns per learn + lookup against 14.5 ns with 4,096 stations, and 60 ns
    /// against 40 ns with 1M (release build, random frames, no prefetching).
    @inlinable @inline(__always)
    func slot(_ index: Int) -> UnsafeMutablePointer<Slot> { slots + index }

    /// The home slot of a 48-bit key: the top bits of a 64-bit finalizer (MurmurHash3's
    /// fmix64) of the key mixed with the seed. Two multiplies; good for sequential MACs
    /// (Docker's 02:42:ac:11:00:xx) and random ones alike.
    @inlinable @inline(__always)
    func home(_ key: UInt64) -> Int {
        var x = key ^ seed
        x ^= x >> 33
        x &*= 0xFF51_AFD7_ED55_8CCD
        x ^= x >> 33
        x &*= 0xC4CE_B9FE_1A85_EC53
        return Int(truncatingIfNeeded: x &>> shift)
    }

    /// True when the entry in `slot` still counts at `now`: static, or learned less than the
    /// ageing time ago. A clock that went backwards keeps entries alive.
    @inlinable @inline(__always)
    func isLive(_ slot: Slot, now: Int64) -> Bool {
        slot.seen == Slot.permanent || now &- slot.seen < ageingNanoseconds
    }

    /// Starts loading the cache line of `mac`'s home slot, so that a `learn` or `lookup` of it
    /// a little later finds it in cache. Prefetch a whole batch's source and destination MACs
    /// first, then learn and look them up: the loads then overlap instead of queueing.
    @inlinable
    public func prefetch(_ mac: MACAddress) {
        pier_prefetch(UnsafeRawPointer(slot(home(mac.rawValue))))
    }

    /// The port `mac` was learned on or statically set to; nil when unknown, aged, or a group
    /// address (the caller floods).
    @inlinable
    public func lookup(_ mac: MACAddress, now: Timestamp) -> PortID? {
        let key = mac.rawValue
        guard !mac.isGroup else { return nil }
        var index = home(key)
        while true {
            let entry = slot(index).pointee
            if entry.isEmpty { return nil }
            if entry.key == key { return isLive(entry, now: now.nanoseconds) ? entry.port : nil }
            index = (index &+ 1) & mask
        }
    }

    /// Learns that the station `mac` sends from `port` at `now`: refreshes, moves or adds its
    /// entry, unless the address is a group or zero one, the entry is static, the port is
    /// `.none`, or the table is full of fresh entries.
    @inlinable @discardableResult
    public func learn(_ mac: MACAddress, port: PortID, now: Timestamp) -> LearnResult {
        let key = mac.rawValue
        guard !mac.isGroup, key != 0, port != .none else { return .ignored }
        let word = key | UInt64(port.rawValue) << 48
        let time = now.nanoseconds
        var index = home(key)
        while true {
            let entry = slot(index)
            let current = entry.pointee
            if current.isEmpty { break }
            if current.key == key {
                if current.isStatic { return .ignored }
                let live = isLive(current, now: time)
                entry.pointee = Slot(word: word, seen: time)
                if !live { return .new }
                return current.word == word ? .refreshed : .moved(from: current.port)
            }
            index = (index &+ 1) & mask
        }
        if storedCount < capacity {
            slot(index).pointee = Slot(word: word, seen: time)
            storedCount += 1
            return .new
        }
        return learnWhenFull(word, now: time)
    }

    /// The cold end of `learn` for a table at capacity: sweeps aged entries if it may, then
    /// inserts the absent key `word` or reports `.full`.
    @usableFromInline
    func learnWhenFull(_ word: UInt64, now: Int64) -> LearnResult {
        guard ageingNanoseconds != .max, now >= nextSweep else { return .full }
        guard sweep(now: now) > 0 else { return .full }
        insertAbsent(word, seen: now)
        return .new
    }

    // MARK: Configuration and maintenance

    /// Adds or replaces a static entry: `mac` is reached through `port`, never ages and is never
    /// moved by learning. False for a group or zero MAC, `.none`, or a full table that does not
    /// already hold `mac`.
    @discardableResult
    public func addStatic(_ mac: MACAddress, port: PortID) -> Bool {
        let key = mac.rawValue
        guard !mac.isGroup, key != 0, port != .none else { return false }
        let word = key | UInt64(port.rawValue) << 48
        if let index = find(key) {
            slot(index).pointee = Slot(word: word, seen: Slot.permanent)
            return true
        }
        guard storedCount < capacity else { return false }
        insertAbsent(word, seen: Slot.permanent)
        return true
    }

    /// Removes `mac`'s entry, static or learned; false when there is none.
    @discardableResult
    public func remove(_ mac: MACAddress) -> Bool {
        guard let index = find(mac.rawValue) else { return false }
        delete(at: index)
        return true
    }

    /// Removes every entry that has aged at `now` and returns how many went. Call it now and
    /// then (Linux sweeps about once a second); a full table also does it on its own.
    @discardableResult
    public func expire(now: Timestamp) -> Int {
        guard ageingNanoseconds != .max else { return 0 }
        return sweep(now: now.nanoseconds)
    }

    /// The live entries at `now`, sorted by port and then MAC, for `pier fdb`.
    public func entries(now: Timestamp) -> [Entry] {
        var result: [Entry] = []
        result.reserveCapacity(count)
        for index in 0...mask {
            let entry = slot(index).pointee
            guard !entry.isEmpty, isLive(entry, now: now.nanoseconds) else { continue }
            let age = entry.isStatic ? 0 : max(0, now.nanoseconds &- entry.seen) / 1_000_000_000
            result.append(Entry(mac: MACAddress(rawValue: entry.key), port: entry.port,
                                isStatic: entry.isStatic, ageSeconds: age))
        }
        result.sort { ($0.port.rawValue, $0.mac.rawValue) < ($1.port.rawValue, $1.mac.rawValue) }
        return result
    }

    /// The slot holding `key`, aged or not; nil when absent.
    func find(_ key: UInt64) -> Int? {
        var index = home(key)
        while true {
            let entry = slot(index).pointee
            if entry.isEmpty { return nil }
            if entry.key == key { return index }
            index = (index &+ 1) & mask
        }
    }

    /// Puts `word` in the first empty slot of its probe chain; the key must be absent and the
    /// table below capacity.
    @usableFromInline
    func insertAbsent(_ word: UInt64, seen: Int64) {
        var index = home(word & Slot.keyMask)
        while !slot(index).pointee.isEmpty { index = (index &+ 1) & mask }
        slot(index).pointee = Slot(word: word, seen: seen)
        storedCount += 1
    }

    /// Empties the slot at `index` and shifts back the entries after it whose home slot lies
    /// at or before the hole (backward-shift deletion), so every probe chain stays unbroken.
    func delete(at index: Int) {
        var hole = index
        var next = (index + 1) & mask
        while true {
            let entry = slot(next).pointee
            if entry.isEmpty { break }
            // The entry may fill the hole when the hole lies in [home, next), cyclically.
            let home = home(entry.key)
            if (next - home) & mask >= (next - hole) & mask {
                slot(hole).pointee = entry
                hole = next
            }
            next = (next + 1) & mask
        }
        slot(hole).pointee = Slot(word: 0, seen: 0)
        storedCount -= 1
    }

    /// Deletes every aged entry; returns how many. A deletion can pull a later entry into the
    /// slot just emptied, so that slot is examined again before moving on. Also puts off the
    /// next automatic sweep by `sweepInterval`.
    @usableFromInline
    func sweep(now: Int64) -> Int {
        nextSweep = now > Int64.max - Self.sweepInterval ? .max : now + Self.sweepInterval
        var removed = 0
        var index = 0
        while index <= mask {
            let entry = slot(index).pointee
            if !entry.isEmpty && !isLive(entry, now: now) {
                delete(at: index)
                removed += 1
            } else {
                index += 1
            }
        }
        return removed
    }
}
