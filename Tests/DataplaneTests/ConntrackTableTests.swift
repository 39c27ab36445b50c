import PierBench
import Testing
import Wire
@testable import Dataplane

/// The connection table: both keys find the connection, probe chains stay whole through
/// removals (checked against a Dictionary), expiry by the caller's clock, eviction of
/// unassured connections only.
struct ConntrackTableTests {
    static func key(_ n: Int, port: UInt16 = 80) -> FlowKey {
        FlowKey(source: IPv4Address(rawValue: 0xAC11_0000 | UInt32(n)), destination: IPv4Address(198, 51, 100, 7),
                sourcePort: UInt16(truncatingIfNeeded: 1_024 + n), destinationPort: port, protocol: .tcp)
    }

    /// The reply key of `key` masqueraded to 192.168.1.25 with source port `port`.
    static func masqueraded(_ key: FlowKey, port: UInt16) -> FlowKey {
        key.withSource(IPv4Address(192, 168, 1, 25), port: port).reversed
    }

    @Test func aKeyReversedIsTheOtherDirection() {
        let key = FlowKey(source: IPv4Address(172, 17, 0, 2), destination: IPv4Address(198, 51, 100, 7),
                          sourcePort: 40_000, destinationPort: 80, protocol: .tcp)
        #expect(key.reversed.source == IPv4Address(198, 51, 100, 7))
        #expect(key.reversed.destination == IPv4Address(172, 17, 0, 2))
        #expect(key.reversed.sourcePort == 80)
        #expect(key.reversed.destinationPort == 40_000)
        #expect(key.reversed.protocol == .tcp)
        #expect(key.reversed.reversed == key)
        #expect(key.description == "src=172.17.0.2 dst=198.51.100.7 sport=40000 dport=80")
    }

    @Test func bothKeysFindTheConnection() throws {
        let table = ConntrackTable(capacity: 16)
        let original = Self.key(1)
        let reply = Self.masqueraded(original, port: 2_000)
        let index = try #require(table.insert(original: original, reply: reply, expires: 100))
        #expect(table.find(original, now: 0) == ConntrackTable.Hit(index: index, direction: .original))
        #expect(table.find(reply, now: 0) == ConntrackTable.Hit(index: index, direction: .reply))
        #expect(table.find(original.reversed, now: 0) == nil)  // not the translated reply key
        #expect(table.count == 1)
        // Either key taken: no second connection.
        #expect(table.insert(original: reply, reply: Self.key(2), expires: 100) == nil)
        #expect(table.insert(original: Self.key(3), reply: original, expires: 100) == nil)
    }

    @Test func removalsKeepEveryProbeChainWhole() throws {
        let table = ConntrackTable(capacity: 2_000, seed: 7)
        var oracle: [FlowKey: Int] = [:]
        for n in 0..<2_000 {
            let original = Self.key(n)
            let index = try #require(table.insert(original: original, reply: Self.masqueraded(original, port: UInt16(n)), expires: 1_000))
            oracle[original] = index
        }
        #expect(table.isFull)
        #expect(table.insert(original: Self.key(5_000), reply: Self.key(5_001), expires: 1) == nil)
        var random = SplitMix64(seed: 0xC0_4417)  // a failure repeats
        for (key, index) in oracle.shuffled(using: &random).prefix(1_000) {
            table.remove(index)
            oracle[key] = nil
        }
        #expect(table.count == 1_000)
        for n in 0..<2_000 {
            let original = Self.key(n)
            let hit = table.find(original, now: 0)
            #expect(hit?.index == oracle[original])
            #expect(table.find(Self.masqueraded(original, port: UInt16(n)), now: 0)?.direction == (oracle[original] == nil ? nil : .reply))
        }
    }

    @Test func expiredConnectionsAreGoneToFindAndSwept() throws {
        let table = ConntrackTable(capacity: 8)
        table.insert(original: Self.key(1), reply: Self.key(1).reversed, expires: 100)
        table.insert(original: Self.key(2), reply: Self.key(2).reversed, expires: 200)
        #expect(table.find(Self.key(1), now: 99) != nil)
        #expect(table.find(Self.key(1), now: 100) == nil)  // removed on the spot
        #expect(table.count == 1)
        #expect(table.expire(now: 150) == 0)
        #expect(table.expire(now: 200) == 1)
        #expect(table.count == 0)
    }

    @Test func whenFullOnlyUnassuredConnectionsAreEvicted() throws {
        let table = ConntrackTable(capacity: 3)
        for n in 1...3 {
            let index = try #require(table.insert(original: Self.key(n), reply: Self.key(n).reversed, expires: 1_000))
            if n != 2 { table[index].set(.assured) }
        }
        #expect(table.evictUnassured(now: 0))
        #expect(table.find(Self.key(2), now: 0) == nil)
        #expect(table.find(Self.key(1), now: 0) != nil && table.find(Self.key(3), now: 0) != nil)
        table.insert(original: Self.key(4), reply: Self.key(4).reversed, expires: 1_000).map { table[$0].set(.assured) }
        #expect(table.isFull)
        #expect(!table.evictUnassured(now: 0))  // every one assured and live
        #expect(table.count == 3)
    }

    @Test func memoryPerConnectionStaysUnder256MBForAMillion() {
        let table = ConntrackTable(capacity: 1 << 20)
        #expect(table.memoryBytes <= 256 << 20)
    }
}
