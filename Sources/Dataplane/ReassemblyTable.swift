import Wire

/// Which datagram a fragment belongs to: RFC 791's (source, destination, protocol,
/// identification) for IPv4, RFC 8200 §4.5's (source, destination, identification) for IPv6.
/// IPv4 addresses sit in the low words with `family` 4.
struct FragmentKey: Hashable {
    var sourceHigh: UInt64
    var sourceLow: UInt64
    var destinationHigh: UInt64
    var destinationLow: UInt64
    var identification: UInt32
    var proto: UInt8
    var family: UInt8
}

/// What the defrag stage read of one fragment, with offsets into its frame.
struct FragmentFacts {
    /// The datagram it belongs to.
    var key: FragmentKey
    /// Where the bytes to keep in front of the payload end: the IPv4 header, or the IPv6
    /// header and extension headers before the fragment header (the fragment header is not kept).
    var headerEnd: Int
    /// Where the fragment's payload starts in the frame.
    var payloadStart: Int
    /// The payload's place in the datagram, in bytes: `offset..<end`.
    var offset: Int
    var end: Int
    /// More fragments follow (the M flag).
    var more: Bool
    /// The largest `end` the datagram's length field can carry (65,535 less the headers it counts).
    var maximumEnd: Int
    /// The fragment's IP length (header included): the largest becomes the refragmenting size.
    var size: Int
    /// IPv4 DF on this fragment.
    var dontFragment: Bool
    /// IPv6: where the next-header byte that named the fragment header is, and the fragment
    /// header's own next header (what that byte becomes once reassembled).
    var nextHeaderField: Int
    var innerNextHeader: UInt8
}

/// The datagrams being reassembled, as Linux's `inet_frag` queues (net/ipv4/inet_fragment.c,
/// ip_fragment.c, net/ipv6/netfilter/nf_conntrack_reasm.c): each waits in one pool frame,
/// its fragments' payloads copied in at their offsets, the first fragment's headers in front.
/// What arrived is kept as runs of contiguous bytes, so that a fragment inside a run is a
/// duplicate (dropped alone) and one that overlaps a run's edge discards the whole datagram
/// (RFC 5722 for IPv6; Linux treats IPv4 the same since 4.19).
///
/// Limits: a datagram lives 30 s from its first fragment (`ipfrag_time`); the frames waiting
/// hold at most 4 MB (`ipfrag_high_thresh`), beyond which the oldest incomplete datagram is
/// evicted to make room; a datagram may have at most `maximumRuns` separate runs.
final class ReassemblyTable {
    /// How long a datagram may take to complete, in nanoseconds (Linux's `ipfrag_time`, 30 s).
    static let timeout: Int64 = 30_000_000_000
    /// The memory the waiting frames may hold (Linux's `ipfrag_high_thresh`, 4 MB).
    static let memoryLimit = 4 * 1024 * 1024
    /// Where the payload begins in an assembly frame's buffer; the headers go just in front.
    static let payloadStart = 256
    /// The most separate runs of bytes one datagram may have before it completes.
    static let maximumRuns = 16
    /// The largest IP datagram (the 16-bit total length).
    static let maximumDatagram = 65_535

    /// One datagram in progress.
    struct Datagram {
        var key: FragmentKey
        var created: Int64
        var starts = InlineArray<16, UInt16>(repeating: 0)
        var ends = InlineArray<16, UInt16>(repeating: 0)
        var runCount = 0
        /// The payload length once known (the last fragment's end), else the largest end so far.
        var length = 0
        var meat = 0
        var firstIn = false
        var lastIn = false
        var maximumSize = 0
        var maximumDFSize = 0
        var fragments = 0
        var headerLength = 0
        var nextHeaderField = 0
        var innerNextHeader: UInt8 = 0
        /// Each fragment's offset and payload length, by offset (up to `FragmentSizes.capacity`; one more: more).
        var pieceOffsets = InlineArray<4, UInt16>(repeating: 0)
        var pieceLengths = InlineArray<4, UInt16>(repeating: 0)
        var pieceCount = 0
        var older: Int32 = -1
        var newer: Int32 = -1
    }

    /// What became of a fragment.
    enum Insertion {
        /// Kept; the datagram is not complete yet.
        case queued
        /// It completed the datagram, which is now in the frame (`headerLength` bytes of
        /// headers, then `payloadLength` of payload).
        case complete(Completed)
        /// Dropped alone (a duplicate); the datagram waits on.
        case rejected(DropReason)
        /// Dropped with the datagram, whose `held` fragments were dropped too.
        case discarded(DropReason, held: Int)
    }

    /// A reassembled datagram's facts, for the stage to write its header.
    struct Completed {
        var headerLength: Int
        var payloadLength: Int
        var maximumSize: Int
        var allDontFragment: Bool
        var fragments: Int
        var nextHeaderField: Int
        var innerNextHeader: UInt8
        /// The fragments' payload lengths in offset order (none when there were too many).
        var sizes: FragmentSizes
    }

    private let pool: FramePool
    private let counters: PipelineCounters
    private let capacity: Int
    private let index: FragmentIndex
    /// The datagrams in progress.
    private(set) var count = 0
    private let datagrams: UnsafeMutablePointer<Datagram>
    private let frames: UnsafeMutablePointer<Frame>
    private var free: [Int32]
    private var oldest: Int32 = -1
    private var newest: Int32 = -1
    /// The bytes the waiting frames hold.
    private(set) var memoryBytes = 0

    /// Makes an empty table taking its frames from `pool` and counting its drops in `counters`.
    init(pool: FramePool, counters: PipelineCounters, capacity: Int = 1_024) {
        self.pool = pool
        self.counters = counters
        self.capacity = capacity
        index = FragmentIndex(capacity: capacity)
        datagrams = .allocate(capacity: capacity)
        frames = .allocate(capacity: capacity)
        free = Array((0..<Int32(capacity)).reversed())
        free.reserveCapacity(capacity)
    }

    deinit {
        var slot = oldest
        while slot >= 0 {
            let next = datagrams[Int(slot)].newer
            (frames + Int(slot)).deinitialize(count: 1)
            slot = next
        }
        datagrams.deallocate()
        frames.deallocate()
    }

    /// Drops the datagrams older than the timeout at `now`, counting their fragments as
    /// `reassembly-timeout`; returns how many datagrams went.
    @discardableResult
    func expire(now: Int64) -> Int {
        var expired = 0
        while oldest >= 0 && now - datagrams[Int(oldest)].created >= Self.timeout {
            release(oldest, reason: .reassemblyTimeout)
            expired += 1
        }
        return expired
    }

    /// Files the fragment in `frame` (described by `facts`) under its datagram; when it
    /// completes the datagram, `frame` becomes the whole datagram (its port, number, time and
    /// verdict kept) and the fragment's own frame goes back to the pool.
    func insert(_ frame: inout Frame, facts: FragmentFacts, now: Int64) -> Insertion {
        let slot: Int32
        let datagrams = self.datagrams
        if let found = index.find(facts.key, keyAt: { datagrams[Int($0)].key }) {
            slot = found
        } else {
            guard let made = create(facts.key, now: now) else { return .rejected(.reassemblyEvicted) }
            slot = made
        }
        let outcome = add(&frame, facts: facts, slot: Int(slot))
        switch outcome {
        case .discarded(let reason, _):
            let held = datagrams[Int(slot)].fragments
            release(slot, reason: reason)
            return .discarded(reason, held: held)
        case .queued:
            let datagram = datagrams + Int(slot)
            guard datagram.pointee.firstIn && datagram.pointee.lastIn && datagram.pointee.meat == datagram.pointee.length else { return .queued }
            return .complete(finish(&frame, slot: slot))
        default:
            return outcome
        }
    }

    // MARK: One fragment

    /// Linux's `ip_frag_queue` / `nf_ct_frag6_queue` checks and `inet_frag_queue_insert`.
    private func add(_ frame: inout Frame, facts: FragmentFacts, slot: Int) -> Insertion {
        // In place: a datagram's record is a few hundred bytes.
        let datagram = datagrams + slot
        var end = facts.end
        let offset = facts.offset
        if !facts.more {
            // The last fragment: nothing may lie beyond it, and it cannot move.
            if end < datagram.pointee.length || (datagram.pointee.lastIn && end != datagram.pointee.length) {
                return .discarded(.fragmentInconsistent, held: 0)
            }
            datagram.pointee.lastIn = true
            datagram.pointee.length = end
        } else {
            end &= ~7  // a fragment other than the last carries a multiple of 8 bytes (RFC 791)
            if end > datagram.pointee.length {
                if datagram.pointee.lastIn { return .discarded(.fragmentInconsistent, held: 0) }
                datagram.pointee.length = end
            }
        }
        if end <= offset { return .discarded(.fragmentInconsistent, held: 0) }
        if end > facts.maximumEnd { return .discarded(.fragmentOversize, held: 0) }
        if facts.headerEnd > Self.payloadStart { return .discarded(.fragmentInconsistent, held: 0) }
        switch place(&datagram.pointee, offset: UInt16(offset), end: UInt16(end)) {
        case .duplicate: return .rejected(.fragmentDuplicate)
        case .overlap: return .discarded(.fragmentOverlap, held: 0)
        case .tooManyRuns: return .discarded(.fragmentInconsistent, held: 0)
        case .placed: break
        }
        copyPayload(of: frame, facts: facts, into: slot, end: end)
        if offset == 0 {
            datagram.pointee.firstIn = true
            datagram.pointee.headerLength = facts.headerEnd
            datagram.pointee.nextHeaderField = facts.nextHeaderField
            datagram.pointee.innerNextHeader = facts.innerNextHeader
            copyHeaders(of: frame, count: facts.headerEnd, into: slot)
        }
        Self.note(&datagram.pointee, offset: offset, length: end - offset)
        datagram.pointee.meat += end - offset
        datagram.pointee.fragments += 1
        if facts.size > datagram.pointee.maximumSize { datagram.pointee.maximumSize = facts.size }
        if facts.dontFragment && facts.size > datagram.pointee.maximumDFSize { datagram.pointee.maximumDFSize = facts.size }
        return .queued
    }

    /// True when the fragments are what an even cut at the largest one's size makes: all but
    /// the last as long as the largest payload.
    private static func isEvenCut(_ datagram: Datagram) -> Bool {
        guard datagram.pieceCount > 1 else { return true }
        let first = datagram.pieceLengths[0]
        for index in 1..<(datagram.pieceCount - 1) where datagram.pieceLengths[index] != first { return false }
        return datagram.pieceLengths[datagram.pieceCount - 1] <= first
    }

    /// Remembers a fragment's place among the others (one more than fit: too many).
    private static func note(_ datagram: inout Datagram, offset: Int, length: Int) {
        guard datagram.pieceCount < FragmentSizes.capacity else {
            datagram.pieceCount = FragmentSizes.capacity + 1
            return
        }
        var position = datagram.pieceCount
        while position > 0 && Int(datagram.pieceOffsets[position - 1]) > offset {
            datagram.pieceOffsets[position] = datagram.pieceOffsets[position - 1]
            datagram.pieceLengths[position] = datagram.pieceLengths[position - 1]
            position -= 1
        }
        datagram.pieceOffsets[position] = UInt16(truncatingIfNeeded: offset)
        datagram.pieceLengths[position] = UInt16(truncatingIfNeeded: length)
        datagram.pieceCount += 1
    }

    private enum Placement { case placed, duplicate, overlap, tooManyRuns }

    /// Puts `offset..<end` among the runs: inside one it is a duplicate, across an edge an
    /// overlap; otherwise it joins its neighbours or becomes a run of its own.
    private func place(_ datagram: inout Datagram, offset: UInt16, end: UInt16) -> Placement {
        var position = 0
        while position < datagram.runCount && datagram.ends[position] <= offset { position += 1 }
        if position < datagram.runCount {
            let start = datagram.starts[position], runEnd = datagram.ends[position]
            if offset >= start && end <= runEnd { return .duplicate }
            if end > start { return .overlap }
        }
        let joinsLeft = position > 0 && datagram.ends[position - 1] == offset
        let joinsRight = position < datagram.runCount && datagram.starts[position] == end
        switch (joinsLeft, joinsRight) {
        case (true, true):
            datagram.ends[position - 1] = datagram.ends[position]
            for move in position..<(datagram.runCount - 1) {
                datagram.starts[move] = datagram.starts[move + 1]
                datagram.ends[move] = datagram.ends[move + 1]
            }
            datagram.runCount -= 1
        case (true, false): datagram.ends[position - 1] = end
        case (false, true): datagram.starts[position] = offset
        case (false, false):
            guard datagram.runCount < Self.maximumRuns else { return .tooManyRuns }
            var move = datagram.runCount
            while move > position {
                datagram.starts[move] = datagram.starts[move - 1]
                datagram.ends[move] = datagram.ends[move - 1]
                move -= 1
            }
            datagram.starts[position] = offset
            datagram.ends[position] = end
            datagram.runCount += 1
        }
        return .placed
    }

    /// Copies the fragment's payload (`end` may be less than its bytes: a non-last
    /// fragment's tail beyond a multiple of 8 is cut, as Linux cuts it) into its place.
    private func copyPayload(of frame: borrowing Frame, facts: FragmentFacts, into slot: Int, end: Int) {
        let needed = Self.payloadStart + end
        if needed > frames[slot].capacity - Frame.headroom { grow(slot) }
        let byteCount = end - facts.offset
        let extent = max(frames[slot].count, needed)
        frame.withUnsafeBytes { source in
            guard let base = source.baseAddress else { return }
            _ = frames[slot].receive { target in
                target.baseAddress?.advanced(by: Self.payloadStart + facts.offset).copyMemory(from: base + facts.payloadStart, byteCount: byteCount)
                return extent
            }
        }
    }

    /// Copies the first fragment's headers in front of the payload.
    private func copyHeaders(of frame: borrowing Frame, count: Int, into slot: Int) {
        let extent = frames[slot].count
        frame.withUnsafeBytes { source in
            guard let base = source.baseAddress else { return }
            _ = frames[slot].receive { target in
                target.baseAddress?.advanced(by: Self.payloadStart - count).copyMemory(from: base, byteCount: count)
                return extent
            }
        }
    }

    /// Moves a datagram's bytes to a frame that holds the largest datagram (once per frame:
    /// the pool keeps it grown).
    private func grow(_ slot: Int) {
        var bigger = Frame(capacity: Frame.headroom + Self.payloadStart + Self.maximumDatagram + 64)
        let extent = frames[slot].count
        frames[slot].withUnsafeBytes { old in
            _ = bigger.receive { target in
                if let base = old.baseAddress { target.baseAddress?.copyMemory(from: base, byteCount: extent) }
                return extent
            }
        }
        memoryBytes += bigger.capacity - frames[slot].capacity
        swap(&bigger, &frames[slot])
        pool.recycle(bigger)
    }

    // MARK: Datagrams

    /// A new datagram for `key`, making room by evicting the oldest ones; nil when no room
    /// can be made (a table of one).
    private func create(_ key: FragmentKey, now: Int64) -> Int32? {
        while oldest >= 0 && (free.isEmpty || memoryBytes + Frame.defaultCapacity > Self.memoryLimit) {
            release(oldest, reason: .reassemblyEvicted)
        }
        guard let slot = free.popLast() else { return nil }
        (datagrams + Int(slot)).initialize(to: Datagram(key: key, created: now))
        (frames + Int(slot)).initialize(to: pool.take())
        _ = frames[Int(slot)].receive { _ in Self.payloadStart }
        memoryBytes += frames[Int(slot)].capacity
        index.insert(key, slot: slot)
        count += 1
        datagrams[Int(slot)].older = newest
        if newest >= 0 { datagrams[Int(newest)].newer = slot } else { oldest = slot }
        newest = slot
        return slot
    }

    /// Forgets a datagram: its frame back to the pool, its fragments counted under `reason`.
    private func release(_ slot: Int32, reason: DropReason?) {
        let datagram = UnsafePointer(datagrams + Int(slot))
        if let reason { for _ in 0..<datagram.pointee.fragments { counters.drop(reason) } }
        unlink(slot, key: datagram.pointee.key, older: datagram.pointee.older, newer: datagram.pointee.newer)
        let frame = (frames + Int(slot)).move()
        memoryBytes -= frame.capacity
        pool.recycle(frame)
    }

    private func unlink(_ slot: Int32, key: FragmentKey, older: Int32, newer: Int32) {
        if older >= 0 { datagrams[Int(older)].newer = newer } else { oldest = newer }
        if newer >= 0 { datagrams[Int(newer)].older = older } else { newest = older }
        index.remove(key, slot: slot)
        count -= 1
        free.append(slot)
    }

    /// Puts the complete datagram in `frame`'s place and forgets it.
    private func finish(_ frame: inout Frame, slot: Int32) -> Completed {
        // Read in place (the record is trivial: nothing to deinitialize).
        let datagram = UnsafePointer(datagrams + Int(slot))
        unlink(slot, key: datagram.pointee.key, older: datagram.pointee.older, newer: datagram.pointee.newer)
        var whole = (frames + Int(slot)).move()
        memoryBytes -= whole.capacity
        let length = datagram.pointee.length, headerLength = datagram.pointee.headerLength
        _ = whole.receive { _ in Self.payloadStart + length }
        whole.removeFirst(Self.payloadStart - headerLength)
        whole.inputPort = frame.inputPort
        whole.number = frame.number
        whole.timestamp = frame.timestamp
        whole.verdict = frame.verdict
        whole.originalLength = whole.count
        whole.offload = frame.offload
        swap(&whole, &frame)
        pool.recycle(whole)
        var sizes = FragmentSizes()
        if datagram.pointee.pieceCount <= FragmentSizes.capacity && !Self.isEvenCut(datagram.pointee) {
            for index in 0..<datagram.pointee.pieceCount { sizes[index] = datagram.pointee.pieceLengths[index] }
        }
        return Completed(headerLength: headerLength, payloadLength: length, maximumSize: datagram.pointee.maximumSize,
                         allDontFragment: datagram.pointee.maximumDFSize == datagram.pointee.maximumSize, fragments: datagram.pointee.fragments,
                         nextHeaderField: datagram.pointee.nextHeaderField, innerNextHeader: datagram.pointee.innerNextHeader, sizes: sizes)
    }
}
