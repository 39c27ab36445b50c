import PierBench
import Testing
import Wire
@testable import Dataplane

/// The MAC learning table: Linux bridge semantics (learn, move, age, static, capacity) and the
/// hash table under it (probe chains stay whole through removals and sweeps).
struct FDBTests {
    // Docker-style container MACs: 02:42:ac:11:00:xx (locally administered, unicast).
    static func container(_ n: Int) -> MACAddress { MACAddress(rawValue: 0x0242_AC11_0000 | UInt64(n)) }
    static let c1 = container(2), c2 = container(3), c3 = container(4)
    static let port1 = PortID(rawValue: 1), port2 = PortID(rawValue: 2), port3 = PortID(rawValue: 3)
    static func at(_ seconds: Int64) -> Timestamp { Timestamp(seconds: seconds, nanoseconds: 0) }

    @Test func learnsAndLooksUp() {
        let fdb = FDB(capacity: 16, ageing: 300, seed: 1)
        #expect(fdb.lookup(Self.c1, now: Self.at(0)) == nil)
        #expect(fdb.learn(Self.c1, port: Self.port1, now: Self.at(0)) == .new)
        #expect(fdb.learn(Self.c2, port: Self.port2, now: Self.at(0)) == .new)
        #expect(fdb.learn(Self.c1, port: Self.port1, now: Self.at(1)) == .refreshed)
        #expect(fdb.lookup(Self.c1, now: Self.at(1)) == Self.port1)
        #expect(fdb.lookup(Self.c2, now: Self.at(1)) == Self.port2)
        #expect(fdb.lookup(Self.c3, now: Self.at(1)) == nil)
        #expect(fdb.count == 2)
    }

    @Test func aStationSeenOnAnotherPortMoves() {
        let fdb = FDB(capacity: 16, ageing: 300, seed: 1)
        fdb.learn(Self.c1, port: Self.port1, now: Self.at(0))
        #expect(fdb.learn(Self.c1, port: Self.port2, now: Self.at(1)) == .moved(from: Self.port1))
        #expect(fdb.lookup(Self.c1, now: Self.at(1)) == Self.port2)
        #expect(fdb.count == 1)
    }

    @Test func entriesAgeOutAfterTheAgeingTime() {
        let fdb = FDB(capacity: 16, ageing: 300, seed: 1)
        fdb.learn(Self.c1, port: Self.port1, now: Self.at(1_000))
        #expect(fdb.lookup(Self.c1, now: Self.at(1_299)) == Self.port1)  // t + ageing - 1
        #expect(fdb.expire(now: Self.at(1_299)) == 0)
        #expect(fdb.lookup(Self.c1, now: Self.at(1_301)) == nil)  // t + ageing + 1
        #expect(fdb.entries(now: Self.at(1_301)).isEmpty)
        #expect(fdb.count == 1)  // aged, still holding its slot until swept
        #expect(fdb.expire(now: Self.at(1_301)) == 1)
        #expect(fdb.count == 0)
    }

    @Test func learningRefreshesTheAge() {
        let fdb = FDB(capacity: 16, ageing: 300, seed: 1)
        fdb.learn(Self.c1, port: Self.port1, now: Self.at(0))
        #expect(fdb.learn(Self.c1, port: Self.port1, now: Self.at(200)) == .refreshed)
        #expect(fdb.lookup(Self.c1, now: Self.at(450)) == Self.port1)
        #expect(fdb.lookup(Self.c1, now: Self.at(501)) == nil)
        // An aged station comes back as new, on whatever port it now uses.
        #expect(fdb.learn(Self.c1, port: Self.port2, now: Self.at(501)) == .new)
        #expect(fdb.lookup(Self.c1, now: Self.at(501)) == Self.port2)
        #expect(fdb.count == 1)
    }

    @Test func ageingZeroNeverForgets() {
        let fdb = FDB(capacity: 16, ageing: 0, seed: 1)
        fdb.learn(Self.c1, port: Self.port1, now: Self.at(0))
        let aCenturyLater = Self.at(100 * 365 * 86_400)
        #expect(fdb.lookup(Self.c1, now: aCenturyLater) == Self.port1)
        #expect(fdb.expire(now: aCenturyLater) == 0)
        #expect(fdb.entries(now: aCenturyLater).count == 1)
    }

    @Test(arguments: [
        MACAddress.broadcast,
        MACAddress(0x01, 0x00, 0x5E, 0x00, 0x00, 0xFB),  // IPv4 multicast 224.0.0.251 (mDNS)
        MACAddress(0x33, 0x33, 0x00, 0x00, 0x00, 0x01),  // IPv6 all-nodes multicast
        MACAddress(0x01, 0x80, 0xC2, 0x00, 0x00, 0x00),  // STP bridge group address
        MACAddress.zero,  // invalid as a source (Linux drops the frame)
    ])
    func groupAndZeroSourcesAreNeverLearned(mac: MACAddress) {
        let fdb = FDB(capacity: 16, ageing: 300, seed: 1)
        #expect(fdb.learn(mac, port: Self.port1, now: Self.at(0)) == .ignored)
        #expect(fdb.lookup(mac, now: Self.at(0)) == nil)
        #expect(fdb.addStatic(mac, port: Self.port1) == false)
        #expect(fdb.count == 0)
    }

    @Test func framesWithoutAnInputPortAreNotLearned() {
        let fdb = FDB(capacity: 16, ageing: 300, seed: 1)
        #expect(fdb.learn(Self.c1, port: .none, now: Self.at(0)) == .ignored)
        #expect(fdb.count == 0)
    }

    @Test func staticEntriesNeitherAgeNorMove() {
        let fdb = FDB(capacity: 16, ageing: 300, seed: 1)
        #expect(fdb.addStatic(Self.c1, port: Self.port1))
        #expect(fdb.learn(Self.c1, port: Self.port2, now: Self.at(10)) == .ignored)
        #expect(fdb.learn(Self.c1, port: Self.port1, now: Self.at(10)) == .ignored)
        #expect(fdb.lookup(Self.c1, now: Self.at(1_000_000)) == Self.port1)
        #expect(fdb.expire(now: Self.at(1_000_000)) == 0)
        #expect(fdb.entries(now: Self.at(1_000_000)) == [
            FDB.Entry(mac: Self.c1, port: Self.port1, isStatic: true, ageSeconds: 0)
        ])
        // A learned entry made static stays put from then on.
        fdb.learn(Self.c2, port: Self.port2, now: Self.at(0))
        #expect(fdb.addStatic(Self.c2, port: Self.port3))
        #expect(fdb.lookup(Self.c2, now: Self.at(1_000_000)) == Self.port3)
        #expect(fdb.count == 2)
        #expect(fdb.remove(Self.c1))
        #expect(fdb.lookup(Self.c1, now: Self.at(0)) == nil)
        #expect(!fdb.remove(Self.c1))
    }

    @Test func aFullTableLearnsNothingNewAndKeepsWhatItHas() {
        let fdb = FDB(capacity: 4_096, ageing: 300, seed: 7)
        var results: [FDB.LearnResult: Int] = [:]
        for n in 0..<(4_096 + 100) {
            results[fdb.learn(Self.container(n + 1), port: PortID(rawValue: UInt16(n % 8)), now: Self.at(5)), default: 0] += 1
        }
        #expect(results == [.new: 4_096, .full: 100])
        #expect(fdb.count == 4_096)
        for n in 0..<4_096 {
            #expect(fdb.lookup(Self.container(n + 1), now: Self.at(6)) == PortID(rawValue: UInt16(n % 8)))
        }
        #expect(fdb.lookup(Self.container(4_096 + 1), now: Self.at(6)) == nil)
        // Known stations are still refreshed and moved when full.
        #expect(fdb.learn(Self.container(1), port: Self.port3, now: Self.at(6)) == .moved(from: PortID(rawValue: 0)))
        #expect(fdb.addStatic(Self.container(5_000), port: Self.port1) == false)
        #expect(fdb.memoryBytes == 8_192 * 16)
    }

    @Test func aFullTableReclaimsAgedEntriesAtMostOnceASecond() {
        let fdb = FDB(capacity: 4, ageing: 10, seed: 3)
        for n in 1...4 { fdb.learn(Self.container(n), port: Self.port1, now: Self.at(0)) }
        fdb.learn(Self.container(1), port: Self.port1, now: Self.at(5))  // keeps c1 fresh
        #expect(fdb.learn(Self.container(9), port: Self.port2, now: Self.at(5)) == .full)  // nothing aged: sweeps, finds none
        #expect(fdb.learn(Self.container(9), port: Self.port2, now: Self.at(11)) == .new)  // 2, 3, 4 swept
        #expect(fdb.count == 2)
        #expect(fdb.lookup(Self.container(1), now: Self.at(11)) == Self.port1)
        // Full again, with nothing aged at 14.6 s: that sweep finds nothing, and the next may
        // not run before 15.6 s, although c1 ages at 15 s.
        fdb.learn(Self.container(10), port: Self.port2, now: Self.at(11))
        fdb.learn(Self.container(11), port: Self.port2, now: Self.at(11))
        let ms = { (milliseconds: Int64) in Timestamp(nanoseconds: milliseconds * 1_000_000) }
        #expect(fdb.learn(Self.container(12), port: Self.port2, now: ms(14_600)) == .full)
        #expect(fdb.learn(Self.container(12), port: Self.port2, now: ms(15_200)) == .full)
        #expect(fdb.lookup(Self.container(1), now: ms(15_200)) == nil)  // aged, holding its slot
        #expect(fdb.learn(Self.container(12), port: Self.port2, now: ms(14_000)) == .full)  // the clock stepped back
        #expect(fdb.learn(Self.container(12), port: Self.port2, now: ms(15_600)) == .new)
        #expect(fdb.count == 4)
    }

    @Test func entriesAreSortedByPortThenMAC() {
        let fdb = FDB(capacity: 64, ageing: 300, seed: 1)
        fdb.learn(Self.container(9), port: Self.port2, now: Self.at(100))
        fdb.learn(Self.container(5), port: Self.port1, now: Self.at(130))
        fdb.learn(Self.container(7), port: Self.port2, now: Self.at(110))
        fdb.learn(Self.container(8), port: Self.port1, now: Self.at(0))  // aged at 300: left out
        fdb.addStatic(Self.container(6), port: Self.port1)
        #expect(fdb.entries(now: Timestamp(seconds: 310, nanoseconds: 500_000_000)) == [
            FDB.Entry(mac: Self.container(5), port: Self.port1, isStatic: false, ageSeconds: 180),
            FDB.Entry(mac: Self.container(6), port: Self.port1, isStatic: true, ageSeconds: 0),
            FDB.Entry(mac: Self.container(7), port: Self.port2, isStatic: false, ageSeconds: 200),
            FDB.Entry(mac: Self.container(9), port: Self.port2, isStatic: false, ageSeconds: 210),
        ])
    }

    @Test func theTableStaysAtMostHalfFullAndSlotsAreSixteenBytes() {
        #expect(MemoryLayout<FDB.Slot>.stride == 16)
        for capacity in [1, 8, 9, 4_096, 5_000] {
            let fdb = FDB(capacity: capacity, ageing: 300)
            #expect(fdb.memoryBytes / 16 >= 2 * capacity)
            #expect((fdb.memoryBytes / 16).nonzeroBitCount == 1)
        }
    }

    @Test func prefetchingIsOnlyAHint() {
        let fdb = FDB(capacity: 16, ageing: 300, seed: 1)
        for mac in [Self.c1, .broadcast, .zero, MACAddress(rawValue: 0xFFFF_FFFF_FFFE)] { fdb.prefetch(mac) }
        #expect(fdb.count == 0)
    }
}

// MARK: - Property test against a Dictionary

extension FDBTests {

    /// The FDB's rules written the obvious way, over a Dictionary.
    struct Model {
        var entries: [UInt64: (port: PortID, seen: Int64?)] = [:]  // seen nil: static
        let capacity: Int
        let ageing: Int64  // nanoseconds; 0: never
        var nextSweep = Int64.min

        func isLive(_ entry: (port: PortID, seen: Int64?), now: Int64) -> Bool {
            guard let seen = entry.seen, ageing != 0 else { return true }
            return now - seen < ageing
        }

        mutating func learn(_ mac: MACAddress, port: PortID, now: Int64) -> FDB.LearnResult {
            guard !mac.isGroup, mac != .zero, port != .none else { return .ignored }
            if let old = entries[mac.rawValue] {
                guard old.seen != nil else { return .ignored }
                entries[mac.rawValue] = (port, now)
                if !isLive(old, now: now) { return .new }
                return old.port == port ? .refreshed : .moved(from: old.port)
            }
            if entries.count >= capacity {
                guard ageing != 0, now >= nextSweep, sweep(now: now) > 0 else { return .full }
            }
            entries[mac.rawValue] = (port, now)
            return .new
        }

        func lookup(_ mac: MACAddress, now: Int64) -> PortID? {
            guard let entry = entries[mac.rawValue], !mac.isGroup, isLive(entry, now: now) else { return nil }
            return entry.port
        }

        mutating func addStatic(_ mac: MACAddress, port: PortID) -> Bool {
            guard !mac.isGroup, mac != .zero, port != .none else { return false }
            guard entries[mac.rawValue] != nil || entries.count < capacity else { return false }
            entries[mac.rawValue] = (port, nil)
            return true
        }

        mutating func sweep(now: Int64) -> Int {
            nextSweep = now + 1_000_000_000
            let before = entries.count
            entries = entries.filter { isLive($0.value, now: now) }
            return before - entries.count
        }

        mutating func expire(now: Int64) -> Int { ageing == 0 ? 0 : sweep(now: now) }
    }
}

extension FDBTests {
    /// Every entry is reachable from its home slot without crossing an empty one, and the
    /// occupied slots number `count`: what linear probing needs after any deletion.
    static func chainsAreWhole(_ fdb: FDB) -> Bool {
        var occupied = 0
        for index in 0...fdb.mask where !fdb.slot(index).pointee.isEmpty {
            occupied += 1
            var probe = fdb.home(fdb.slot(index).pointee.key)
            while probe != index {
                if fdb.slot(probe).pointee.isEmpty { return false }
                probe = (probe + 1) & fdb.mask
            }
        }
        return occupied == fdb.count
    }

    /// Keys that share home slots, on purpose: several per slot for a few neighbouring slots,
    /// including the last slots and the first ones, so chains run into each other and wrap.
    static func collidingKeys(in fdb: FDB, rng: inout SplitMix64) -> [UInt64] {
        let homes = Set([fdb.mask - 1, fdb.mask, 0, 1, 100, 101, 103])
        var found: [Int: Int] = [:]
        var keys: [UInt64] = []
        while keys.count < homes.count * 6 {
            let key = (rng.next() & 0xFEFF_FFFF_FFFF) | 0x0200_0000_0000  // unicast, local
            let home = fdb.home(key)
            if homes.contains(home), found[home, default: 0] < 6 {
                found[home, default: 0] += 1
                keys.append(key)
            }
        }
        return keys
    }

    @Test(arguments: [(capacity: 256, ageing: Int64(5)), (capacity: 64, ageing: Int64(0)), (capacity: 1_000, ageing: Int64(30))])
    func randomOperationsMatchADictionary(capacity: Int, ageing: Int64) {
        var rng = SplitMix64(seed: 0x5049_4552 &+ UInt64(capacity))
        let fdb = FDB(capacity: capacity, ageing: ageing, seed: rng.next())
        var model = Model(capacity: capacity, ageing: ageing * 1_000_000_000)
        // More stations than room, so the table fills; some colliding, some group or zero.
        var keys = (0..<(2 * capacity)).map { _ in rng.next() & 0xFEFF_FFFF_FFFF }
        keys += Self.collidingKeys(in: fdb, rng: &rng)
        keys += [MACAddress.broadcast.rawValue, 0x0100_5E00_00FB, 0]
        var now: Int64 = 1_000_000_000_000
        var outcomes: [String: Int] = [:]
        for step in 0..<100_000 {
            // Steps short enough that about two tables' worth of learning fits in an ageing time.
            now += Int64.random(in: 0..<(ageing == 0 ? 1_000 : ageing * 1_000_000_000 / Int64(2 * capacity)), using: &rng)
            let mac = MACAddress(rawValue: keys[Int.random(in: 0..<keys.count, using: &rng)])
            let port = PortID(rawValue: UInt16.random(in: 0..<4, using: &rng))
            let time = Timestamp(nanoseconds: now)
            let failure: String?
            switch Int.random(in: 0..<1_000, using: &rng) {
            case 0..<550:
                let got = fdb.learn(mac, port: port, now: time), want = model.learn(mac, port: port, now: now)
                failure = got == want ? nil : "learn \(mac) on \(port): \(got), want \(want)"
                outcomes[String(describing: got).prefix { $0 != "(" }.description, default: 0] += 1
            case 550..<650:
                let got = fdb.remove(mac), want = model.entries.removeValue(forKey: mac.rawValue) != nil
                failure = got == want ? nil : "remove \(mac): \(got)"
            case 650..<665:
                let got = fdb.addStatic(mac, port: port), want = model.addStatic(mac, port: port)
                failure = got == want ? nil : "addStatic \(mac): \(got)"
            case 665..<667:
                let got = fdb.expire(now: time), want = model.expire(now: now)
                failure = got == want ? nil : "expire: \(got), want \(want)"
            default:
                let got = fdb.lookup(mac, now: time), want = model.lookup(mac, now: now)
                failure = got == want ? nil : "lookup \(mac): \(String(describing: got)), want \(String(describing: want))"
            }
            // One failure tells the story; a hundred thousand copies of it would not.
            guard failure == nil, fdb.count == model.entries.count else {
                Issue.record("step \(step): \(failure ?? "count \(fdb.count), want \(model.entries.count)")")
                return
            }
            if step % 1_000 == 0 {
                #expect(Self.chainsAreWhole(fdb), "step \(step): probe chains")
                for key in keys {
                    let mac = MACAddress(rawValue: key)
                    #expect(fdb.lookup(mac, now: time) == model.lookup(mac, now: now), "step \(step): lookup \(mac)")
                }
                let live = model.entries.filter { model.isLive($0.value, now: now) }
                #expect(fdb.entries(now: time).map(\.mac.rawValue).sorted() == live.keys.sorted())
            }
        }
        // The run went through every outcome, the full table's included.
        #expect(Set(outcomes.keys) == ["new", "refreshed", "moved", "full", "ignored"], "\(outcomes)")
    }
}
