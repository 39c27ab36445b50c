import PierBench
import Testing
import Wire
@testable import Dataplane

/// Longest-prefix match for IPv6: hand-written cases, then 2,000 random prefixes checked
/// against a linear scan.
struct RouteTable6Tests {
    @Test func anEmptyTableRoutesNothing() {
        let table = RouteTable6()
        #expect(table.count == 0)
        #expect(table.lookup(address("2001:db8::1")) == nil)
        #expect(table.lookup(.any) == nil)
    }

    @Test func theDefaultRouteCatchesEveryAddress() {
        var table = RouteTable6()
        table.insert(prefix("::/0"), nextHop: 7)
        for text in ["::", "::1", "2001:db8::1", "fe80::1", "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"] {
            #expect(table.lookup(address(text)) == 7)
        }
    }

    @Test func aHostRouteMatchesOneAddress() {
        var table = RouteTable6()
        table.insert(prefix("2001:db8::77/128"), nextHop: 3)
        #expect(table.lookup(address("2001:db8::77")) == 3)
        #expect(table.lookup(address("2001:db8::76")) == nil)
        #expect(table.lookup(address("2001:db8::78")) == nil)
    }

    /// 2001:db8::/32 ⊃ /48 ⊃ /64 ⊃ /127 ⊃ /128 under a default route, inserted in several orders.
    static let nested = ["::/0", "2001:db8::/32", "2001:db8:1::/48", "2001:db8:1:2::/64",
                         "2001:db8:1:2::2/127", "2001:db8:1:2::3/128"]
    static let insertionOrders: [[Int]] = [[0, 1, 2, 3, 4, 5], [5, 4, 3, 2, 1, 0], [2, 5, 0, 3, 1, 4]]

    @Test(arguments: insertionOrders)
    func theLongestNestedPrefixWins(order: [Int]) {
        var table = RouteTable6()
        for index in order { table.insert(prefix(Self.nested[index]), nextHop: UInt32(index)) }
        let expected: [(String, UInt32)] = [
            ("2001:db8:1:2::3", 5), ("2001:db8:1:2::2", 4), ("2001:db8:1:2::4", 3),
            ("2001:db8:1:2:ffff:ffff:ffff:ffff", 3), ("2001:db8:1:3::", 2), ("2001:db8:1:ffff::1", 2),
            ("2001:db8:2::", 1), ("2001:db8:ffff::1", 1), ("2001:db9::", 0), ("2001:db7:ffff::", 0),
        ]
        for (text, nextHop) in expected {
            #expect(table.lookup(address(text)) == nextHop, "\(text)")
        }
        #expect(table.count == 6)
    }

    @Test(arguments: insertionOrders)
    func removingANestedPrefixHandsItsAddressesToTheNextShorter(order: [Int]) {
        var table = RouteTable6()
        for index in 0..<Self.nested.count { table.insert(prefix(Self.nested[index]), nextHop: UInt32(index)) }
        let probe = address("2001:db8:1:2::3")
        var present = Set(0..<Self.nested.count)
        for index in order {
            table.remove(prefix(Self.nested[index]))
            present.remove(index)
            #expect(table.lookup(probe) == present.max().map(UInt32.init), "after removing \(Self.nested[index])")
            #expect(table.count == present.count)
        }
    }

    /// Lengths that straddle the two 64-bit halves.
    @Test(arguments: [
        ("fd00::/8", "fd00::", "fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "fcff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "fe00::"),
        ("2001:db8:0:1::/63", "2001:db8::", "2001:db8:0:1:ffff:ffff:ffff:ffff", "2001:db7:ffff:ffff:ffff:ffff:ffff:ffff", "2001:db8:0:2::"),
        ("2001:db8::/64", "2001:db8::", "2001:db8::ffff:ffff:ffff:ffff", "2001:db7:ffff:ffff:ffff:ffff:ffff:ffff", "2001:db8:0:1::"),
        ("2001:db8::8000:0:0:0/65", "2001:db8::8000:0:0:0", "2001:db8::ffff:ffff:ffff:ffff", "2001:db8::7fff:ffff:ffff:ffff", "2001:db8:0:1::"),
        ("2001:db8::10/124", "2001:db8::10", "2001:db8::1f", "2001:db8::f", "2001:db8::20"),
    ])
    func aPrefixCoversExactlyItsRange(text: String, first: String, last: String, before: String, after: String) {
        var table = RouteTable6()
        table.insert(prefix(text), nextHop: 1)
        #expect(table.lookup(address(first)) == 1)
        #expect(table.lookup(address(last)) == 1)
        #expect(table.lookup(address(before)) == nil)
        #expect(table.lookup(address(after)) == nil)
    }

    @Test func insertReplacesAndHostBitsAreIgnored() {
        var table = RouteTable6()
        table.insert(prefix("fd00:1::5/64"), nextHop: 1)
        table.insert(prefix("fd00:1::/64"), nextHop: 2)
        #expect(table.count == 1)
        #expect(table.routes().map { "\($0.0) -> \($0.1)" } == ["fd00:1::/64 -> 2"])
        #expect(table.lookup(address("fd00:1::9")) == 2)
        table.remove(prefix("fd00:1::ffff/64"))
        #expect(table.count == 0)
        #expect(table.lookup(address("fd00:1::9")) == nil)
        table.remove(prefix("fd00:1::/64"))  // absent: nothing happens
        #expect(table.count == 0)
    }

    @Test func routesAreSortedByAddressThenLength() {
        var table = RouteTable6()
        for (index, text) in ["fd00::/8", "2001:db8::/32", "::/0", "2001:db8::/48"].enumerated() {
            table.insert(prefix(text), nextHop: UInt32(index))
        }
        #expect(table.routes().map { $0.0.description } == ["::/0", "2001:db8::/32", "2001:db8::/48", "fd00::/8"])
    }

    // MARK: Random prefixes against a linear scan

    /// 2,000 random prefixes (mostly /32 to /128, some sharing a /32 so that they nest) and
    /// 20,000 lookups, half of them inside a prefix, compared with the oracle; then again after
    /// removing a random third.
    @Test func randomPrefixesMatchALinearScan() {
        var random = SplitMix64(seed: 0x6666_2001)
        var table = RouteTable6()
        var model: [IPv6Prefix: UInt32] = [:]
        // A few /32s that most prefixes fall under, so that prefixes nest as in real tables.
        let sites = (0..<8).map { _ in random.next() & 0xFFFF_FFFF_0000_0000 }
        while model.count < 2_000 {  // repeats replace: 2,000 different prefixes in the end
            let high = random.next32() & 3 == 0 ? random.next() : sites[Int(random.next32() & 7)] | random.next() & 0xFFFF_FFFF
            let route = IPv6Prefix(address: IPv6Address(high: high, low: random.next()),
                                   length: random.prefixLength(maximum: 128))
            let nextHop = random.next32()
            table.insert(route, nextHop: nextHop)
            model[IPv6Prefix(address: route.network, length: route.length)] = nextHop
        }
        #expect(table.count == model.count)
        #expect(table.routes().map { $0.0 } == sorted(model.keys))
        expectSameAnswers(table, model, random: &random)

        var inserted = sorted(model.keys)  // a dictionary's order changes from run to run
        inserted.shuffle(using: &random)
        for route in inserted.prefix(inserted.count / 3) {
            table.remove(route)
            model[route] = nil
        }
        #expect(table.count == model.count)
        expectSameAnswers(table, model, random: &random)
    }

    private func expectSameAnswers(_ table: RouteTable6, _ model: [IPv6Prefix: UInt32],
                                   random: inout SplitMix64) {
        // The oracle: a linear scan of the prefixes, longest first; the first that contains the
        // address wins.
        let oracle = model.sorted { $0.key.length > $1.key.length }.map { prefix, nextHop in
            let (high, low) = prefix.masks
            return (high: prefix.address.high & high, low: prefix.address.low & low,
                    highMask: high, lowMask: low, nextHop: nextHop)
        }
        let prefixes = sorted(model.keys)
        var mismatches = 0
        for index in 0..<20_000 {
            var candidate = IPv6Address(high: random.next(), low: random.next())
            if !index.isMultiple(of: 2), !prefixes.isEmpty {
                let inside = prefixes[Int(random.next32()) % prefixes.count]
                let (high, low) = inside.masks
                candidate = IPv6Address(high: inside.address.high & high | candidate.high & ~high,
                                        low: inside.address.low & low | candidate.low & ~low)
            }
            let expected = oracle.first {
                candidate.high & $0.highMask == $0.high && candidate.low & $0.lowMask == $0.low
            }?.nextHop
            let found = table.lookup(candidate)
            if found != expected {
                mismatches += 1
                if mismatches <= 5 { Issue.record("\(candidate): table \(String(describing: found)), scan \(String(describing: expected))") }
            }
        }
        #expect(mismatches == 0)
    }
}

/// Prefixes by address, then length: `routes()`'s order.
private func sorted(_ prefixes: some Sequence<IPv6Prefix>) -> [IPv6Prefix] {
    prefixes.sorted { ($0.address, $0.length) < ($1.address, $1.length) }
}

private func address(_ text: String) -> IPv6Address {
    guard let address = IPv6Address(text) else { fatalError("bad address \(text) in a test") }
    return address
}

private func prefix(_ text: String) -> IPv6Prefix {
    guard let prefix = IPv6Prefix(text) else { fatalError("bad prefix \(text) in a test") }
    return prefix
}
