import PierBench
import Testing
import Wire
@testable import Dataplane

/// Longest-prefix match for IPv4: hand-written cases (RFC 1812 §5.2.4.3, RFC 4632 §5.1),
/// then 10,000 random prefixes checked against a linear scan.
struct RouteTable4Tests {
    @Test func anEmptyTableRoutesNothing() {
        let table = RouteTable4()
        #expect(table.count == 0)
        #expect(table.lookup(address("10.0.0.1")) == nil)
        #expect(table.lookup(.any) == nil)
        #expect(table.lookup(.broadcast) == nil)
        #expect(table.memoryBytes == (65_536 + 16 * 256) * 8)
    }

    @Test func theDefaultRouteCatchesEveryAddress() {
        var table = RouteTable4()
        table.insert(prefix("0.0.0.0/0"), nextHop: 7)
        for text in ["0.0.0.0", "10.1.2.3", "172.17.0.2", "255.255.255.255"] {
            #expect(table.lookup(address(text)) == 7)
        }
        #expect(table.count == 1)
        #expect(table.chunksInUse == 0)  // a /0 fills the first level only
    }

    @Test func aHostRouteMatchesOneAddress() {
        var table = RouteTable4()
        table.insert(prefix("192.168.1.77/32"), nextHop: 3)
        #expect(table.lookup(address("192.168.1.77")) == 3)
        #expect(table.lookup(address("192.168.1.76")) == nil)
        #expect(table.lookup(address("192.168.1.78")) == nil)
        #expect(table.lookup(address("192.168.0.77")) == nil)
        #expect(table.chunksInUse == 2)  // one chunk for 192.168.1.x, one for its last octet
    }

    /// The full range of next hops survives the packing: 0 and UInt32.max are routes, not "none".
    @Test(arguments: [UInt32(0), 1, 0x7FFF_FFFF, 0x8000_0000, .max])
    func everyNextHopValueRoundTrips(_ nextHop: UInt32) {
        var table = RouteTable4()
        table.insert(prefix("10.0.0.0/8"), nextHop: nextHop)
        table.insert(prefix("10.1.2.0/24"), nextHop: nextHop)
        table.insert(prefix("10.1.2.3/32"), nextHop: nextHop)
        #expect(table.lookup(address("10.9.9.9")) == nextHop)
        #expect(table.lookup(address("10.1.2.9")) == nextHop)
        #expect(table.lookup(address("10.1.2.3")) == nextHop)
    }

    /// 10/8 ⊃ 10.1/16 ⊃ 10.1.2/24 ⊃ 10.1.2.3/32 under a default route, inserted in every order
    /// that matters: the answer never depends on the order.
    static let nested = ["0.0.0.0/0", "10.0.0.0/8", "10.1.0.0/16", "10.1.2.0/24", "10.1.2.3/32"]
    static let insertionOrders: [[Int]] = [[0, 1, 2, 3, 4], [4, 3, 2, 1, 0], [2, 4, 0, 3, 1], [3, 0, 4, 1, 2]]

    @Test(arguments: insertionOrders)
    func theLongestNestedPrefixWins(order: [Int]) {
        var table = RouteTable4()
        for index in order { table.insert(prefix(Self.nested[index]), nextHop: UInt32(index)) }
        let expected: [(String, UInt32)] = [
            ("10.1.2.3", 4),                                        // the /32
            ("10.1.2.2", 3), ("10.1.2.4", 3), ("10.1.2.0", 3), ("10.1.2.255", 3),  // the /24
            ("10.1.1.255", 2), ("10.1.3.0", 2), ("10.1.0.0", 2), ("10.1.255.255", 2),  // the /16
            ("10.0.255.255", 1), ("10.2.0.0", 1), ("10.0.0.0", 1), ("10.255.255.255", 1),  // the /8
            ("9.255.255.255", 0), ("11.0.0.0", 0), ("0.0.0.0", 0),  // the default
        ]
        for (text, nextHop) in expected {
            #expect(table.lookup(address(text)) == nextHop, "\(text)")
        }
        #expect(table.count == 5)
    }

    @Test(arguments: insertionOrders)
    func removingANestedPrefixHandsItsAddressesToTheNextShorter(order: [Int]) {
        var table = RouteTable4()
        for index in 0..<Self.nested.count { table.insert(prefix(Self.nested[index]), nextHop: UInt32(index)) }
        let probe = address("10.1.2.3")
        var present = Set(0..<Self.nested.count)
        for index in order {
            table.remove(prefix(Self.nested[index]))
            present.remove(index)
            #expect(table.lookup(probe) == present.max().map(UInt32.init), "after removing \(Self.nested[index])")
            #expect(table.count == present.count)
        }
        #expect(table.chunksInUse == 0)
    }

    /// Lengths at each stride boundary and between them: first and last address inside, the
    /// neighbours outside.
    @Test(arguments: [
        ("172.16.0.0/12", "172.16.0.0", "172.31.255.255", "172.15.255.255", "172.32.0.0"),
        ("172.17.0.0/16", "172.17.0.0", "172.17.255.255", "172.16.255.255", "172.18.0.0"),
        ("10.244.16.0/20", "10.244.16.0", "10.244.31.255", "10.244.15.255", "10.244.32.0"),
        ("192.168.1.0/24", "192.168.1.0", "192.168.1.255", "192.168.0.255", "192.168.2.0"),
        ("10.0.0.16/28", "10.0.0.16", "10.0.0.31", "10.0.0.15", "10.0.0.32"),
        ("128.0.0.0/1", "128.0.0.0", "255.255.255.255", "127.255.255.255", "127.255.255.255"),
        ("100.64.0.0/17", "100.64.0.0", "100.64.127.255", "100.63.255.255", "100.64.128.0"),
        ("100.64.0.0/25", "100.64.0.0", "100.64.0.127", "100.63.255.255", "100.64.0.128"),
    ])
    func aPrefixCoversExactlyItsRange(text: String, first: String, last: String, before: String, after: String) {
        var table = RouteTable4()
        table.insert(prefix(text), nextHop: 1)
        #expect(table.lookup(address(first)) == 1)
        #expect(table.lookup(address(last)) == 1)
        #expect(table.lookup(address(before)) == nil)
        #expect(table.lookup(address(after)) == nil)
        table.remove(prefix(text))
        #expect(table.lookup(address(first)) == nil)
        #expect(table.chunksInUse == 0)
    }

    /// A container node: docker0's bridge, the uplink's subnet, and the default gateway.
    @Test func aContainerNodeRoutesBridgeUplinkAndDefault() {
        var table = RouteTable4()
        table.insert(prefix("0.0.0.0/0"), nextHop: 0)        // via 10.0.0.1 dev eth0
        table.insert(prefix("10.0.0.0/24"), nextHop: 1)      // dev eth0, on link
        table.insert(prefix("172.17.0.0/16"), nextHop: 2)    // dev docker0
        #expect(table.lookup(address("172.17.0.5")) == 2)
        #expect(table.lookup(address("10.0.0.1")) == 1)
        #expect(table.lookup(address("10.0.1.1")) == 0)
        #expect(table.lookup(address("1.1.1.1")) == 0)
        #expect(table.routes().map { "\($0.0) -> \($0.1)" } == [
            "0.0.0.0/0 -> 0", "10.0.0.0/24 -> 1", "172.17.0.0/16 -> 2",
        ])
    }

    @Test func insertingTheSamePrefixReplacesItsNextHop() {
        var table = RouteTable4()
        table.insert(prefix("10.1.0.0/16"), nextHop: 1)
        table.insert(prefix("10.1.2.0/24"), nextHop: 5)
        table.insert(prefix("10.1.0.0/16"), nextHop: 2)
        table.insert(prefix("10.1.2.0/24"), nextHop: 6)
        #expect(table.count == 2)
        #expect(table.lookup(address("10.1.9.9")) == 2)
        #expect(table.lookup(address("10.1.2.9")) == 6)
        #expect(table.routes().map { $0.1 } == [2, 6])
    }

    @Test func hostBitsInAPrefixAreIgnored() {
        var table = RouteTable4()
        table.insert(prefix("10.1.2.3/8"), nextHop: 1)
        #expect(table.routes().map { $0.0.description } == ["10.0.0.0/8"])
        #expect(table.lookup(address("10.200.0.1")) == 1)
        table.insert(prefix("10.9.9.9/8"), nextHop: 2)  // the same prefix
        #expect(table.count == 1)
        table.remove(prefix("10.255.0.0/8"))
        #expect(table.count == 0)
        #expect(table.lookup(address("10.200.0.1")) == nil)
    }

    @Test func removingAnAbsentPrefixChangesNothing() {
        var table = RouteTable4()
        table.insert(prefix("10.1.0.0/16"), nextHop: 1)
        table.remove(prefix("10.1.0.0/17"))
        table.remove(prefix("10.0.0.0/8"))
        table.remove(prefix("10.1.0.0/24"))
        #expect(table.count == 1)
        #expect(table.lookup(address("10.1.200.1")) == 1)
    }

    /// Two halves with the same next hop fold into one slot; removing one half splits it again.
    @Test func equalHalvesFoldAndSplitAgain() {
        var table = RouteTable4()
        table.insert(prefix("10.1.0.0/16"), nextHop: 1)
        table.insert(prefix("10.1.2.0/25"), nextHop: 9)
        table.insert(prefix("10.1.2.128/25"), nextHop: 9)
        #expect(table.chunksInUse == 1)  // 10.1.x.y; 10.1.2.y folded back
        table.insert(prefix("10.1.2.0/24"), nextHop: 4)  // covered by the /25s: changes nothing
        #expect(table.lookup(address("10.1.2.7")) == 9)
        table.remove(prefix("10.1.2.128/25"))
        #expect(table.lookup(address("10.1.2.7")) == 9)
        #expect(table.lookup(address("10.1.2.200")) == 4)
        #expect(table.lookup(address("10.1.3.1")) == 1)
        table.remove(prefix("10.1.2.0/25"))
        table.remove(prefix("10.1.2.0/24"))
        #expect(table.lookup(address("10.1.2.7")) == 1)
        #expect(table.chunksInUse == 0)
    }

    @Test func routesAreSortedByAddressThenLength() {
        var table = RouteTable4()
        for (text, hop) in [("192.168.0.0/16", 1), ("10.1.0.0/16", 2), ("10.0.0.0/8", 3), ("0.0.0.0/0", 4)] {
            table.insert(prefix(text), nextHop: UInt32(hop))
        }
        #expect(table.routes().map { $0.0.description } == ["0.0.0.0/0", "10.0.0.0/8", "10.1.0.0/16", "192.168.0.0/16"])
    }

    @Test func freedChunksAreReused() {
        var table = RouteTable4()
        for round in 0..<3 {
            for third in 0..<16 { table.insert(prefix("10.\(round).\(third).0/24"), nextHop: 1) }
            for third in 0..<16 { table.remove(prefix("10.\(round).\(third).0/24")) }
        }
        #expect(table.chunksInUse == 0)
        #expect(table.memoryBytes == (65_536 + 16 * 256) * 8)  // never grew past the first 16
    }

    // MARK: Random prefixes against a linear scan

    /// 10,000 random prefixes (/8 to /32 but for one in twenty) and 100,000 lookups, half of
    /// them inside a prefix, compared with the oracle; then again after removing a random
    /// third, then with everything removed.
    @Test func randomPrefixesMatchALinearScan() {
        var random = SplitMix64(seed: 0x5EED_1234)
        var table = RouteTable4()
        var model: [IPv4Prefix: UInt32] = [:]
        while model.count < 10_000 {  // repeats replace: 10,000 different prefixes in the end
            let route = random.ipv4Prefix()
            let nextHop = random.next32()
            table.insert(route, nextHop: nextHop)
            model[route.canonical] = nextHop
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
        // Removal folds every chunk it empties: the trie is as small as one built afresh.
        var rebuilt = RouteTable4()
        for (route, nextHop) in model { rebuilt.insert(route, nextHop: nextHop) }
        #expect(table.chunksInUse == rebuilt.chunksInUse)

        for route in model.keys { table.remove(route) }
        #expect(table.count == 0)
        #expect(table.chunksInUse == 0)
        #expect(table.lookup(address("10.1.2.3")) == nil)
    }

    /// Compares 100,000 lookups, half uniform and half inside a prefix of `model`.
    private func expectSameAnswers(_ table: borrowing RouteTable4, _ model: [IPv4Prefix: UInt32],
                                   random: inout SplitMix64) {
        let oracle = LinearScan4(model)
        let prefixes = sorted(model.keys)
        var mismatches = 0
        for index in 0..<100_000 {
            let candidate: IPv4Address
            if index.isMultiple(of: 2) || prefixes.isEmpty {
                candidate = IPv4Address(rawValue: random.next32())
            } else {
                let inside = prefixes[Int(random.next32()) % prefixes.count]
                candidate = IPv4Address(rawValue: inside.network.rawValue | random.next32() & ~inside.mask)
            }
            let expected = oracle.lookup(candidate)
            let found = table.lookup(candidate)
            if found != expected {
                mismatches += 1
                if mismatches <= 5 { Issue.record("\(candidate): table \(String(describing: found)), scan \(String(describing: expected))") }
            }
        }
        #expect(mismatches == 0)
    }
}

/// The oracle: a linear scan of the prefixes, longest first; the first that contains the
/// address wins. Only prefixes of /8 or longer under the address's first octet, then the
/// shorter ones, are scanned (no other prefix can contain it), so that 100,000 lookups take
/// a debug build seconds rather than a minute.
private struct LinearScan4 {
    private typealias Route = (network: UInt32, mask: UInt32, nextHop: UInt32)
    /// Prefixes of /8 or longer by first octet, longest first.
    private var byFirstOctet = [[Route]](repeating: [], count: 256)
    /// Prefixes shorter than /8, longest first.
    private var short: [Route] = []

    init(_ model: [IPv4Prefix: UInt32]) {
        for (prefix, nextHop) in model.sorted(by: { $0.key.length > $1.key.length }) {
            let route = (prefix.network.rawValue, prefix.mask, nextHop)
            if prefix.length >= 8 {
                byFirstOctet[Int(route.0 >> 24)].append(route)
            } else {
                short.append(route)
            }
        }
    }

    func lookup(_ address: IPv4Address) -> UInt32? {
        for route in byFirstOctet[Int(address.rawValue >> 24)] + short
        where address.rawValue & route.mask == route.network {
            return route.nextHop
        }
        return nil
    }
}

/// The route tests' draws on Dataplane's seeded generator: a fixed seed gives the same
/// prefixes every run.
extension SplitMix64 {
    mutating func next32() -> UInt32 { UInt32(truncatingIfNeeded: next() >> 32) }

    /// A prefix length from a quarter of `maximum` to `maximum` (/8 to /32 for IPv4) 19 times
    /// in 20, shorter otherwise.
    mutating func prefixLength(maximum: Int) -> Int {
        let short = maximum / 4
        return Int.random(in: 0..<20, using: &self) == 0
            ? Int.random(in: 0..<short, using: &self)
            : Int.random(in: short...maximum, using: &self)
    }

    /// A random IPv4 prefix, host bits included (the table must ignore them).
    mutating func ipv4Prefix() -> IPv4Prefix {
        IPv4Prefix(address: IPv4Address(rawValue: next32()), length: prefixLength(maximum: 32))
    }
}

/// Prefixes by address, then length: `routes()`'s order.
private func sorted(_ prefixes: some Sequence<IPv4Prefix>) -> [IPv4Prefix] {
    prefixes.sorted { ($0.address, $0.length) < ($1.address, $1.length) }
}

private func address(_ text: String) -> IPv4Address {
    guard let address = IPv4Address(text) else { fatalError("bad address \(text) in a test") }
    return address
}

private func prefix(_ text: String) -> IPv4Prefix {
    guard let prefix = IPv4Prefix(text) else { fatalError("bad prefix \(text) in a test") }
    return prefix
}
