import Testing
import Wire

/// MAC (IEEE 802), IPv4 (RFC 791 dotted quad) and IPv6 (RFC 4291 text, RFC 5952 printing).
struct AddressTests {
    // MARK: MAC

    @Test(arguments: [
        ("02:42:ac:11:00:02", 0x0242_ac11_0002 as UInt64),
        ("02-42-AC-11-00-02", 0x0242_ac11_0002),
        ("ff:ff:ff:ff:ff:ff", 0xffff_ffff_ffff),
        ("00:00:00:00:00:00", 0),
        ("0:1:2:3:4:5", 0x0001_0203_0405),
    ])
    func macParse(text: String, value: UInt64) throws {
        let address = try #require(MACAddress(text))
        #expect(address.rawValue == value)
    }

    @Test(arguments: [
        "", "02:42:ac:11:00", "02:42:ac:11:00:02:03", "02:42:ac:11:00:0g", "02:42:ac:11:00:002",
        "02:42-ac:11:00:02", "02:42:ac:11::02", "0242.ac11.0002", "02:42:ac:11:00:02:",
        // Swift's integer parser takes a sign: "+f" and "-0" must not pass as octets.
        "+2:42:ac:11:00:02", "-0:42:ac:11:00:02", "02:42:ac:11:00:+2",
    ])
    func macRejects(text: String) {
        #expect(MACAddress(text) == nil)
    }

    @Test func macPrint() {
        #expect(MACAddress(rawValue: 0x0242_ac11_0002).description == "02:42:ac:11:00:02")
        #expect(MACAddress(0x00, 0x16, 0x3e, 0x08, 0x71, 0xcf).description == "00:16:3e:08:71:cf")
        #expect(MACAddress.broadcast.description == "ff:ff:ff:ff:ff:ff")
        #expect(MACAddress(rawValue: 0xAB00_0000_0000_0001).description == "00:00:00:00:00:01")  // 48 bits kept
    }

    @Test func macKinds() {
        #expect(MACAddress("01:00:5e:00:00:fb")!.isGroup)         // IPv4 multicast
        #expect(MACAddress("33:33:00:00:00:16")!.isGroup)         // IPv6 multicast
        #expect(MACAddress.broadcast.isGroup && MACAddress.broadcast.isBroadcast)
        #expect(!MACAddress("02:42:ac:11:00:02")!.isGroup)
        #expect(MACAddress("02:42:ac:11:00:02")!.octets == [0x02, 0x42, 0xac, 0x11, 0x00, 0x02])
    }

    // MARK: IPv4

    @Test(arguments: [
        ("10.244.1.5", 0x0af4_0105 as UInt32),
        ("192.168.1.1", 0xc0a8_0101),
        ("0.0.0.0", 0),
        ("255.255.255.255", 0xffff_ffff),
        ("1.2.3.4", 0x0102_0304),
    ])
    func ipv4Parse(text: String, value: UInt32) throws {
        let address = try #require(IPv4Address(text))
        #expect(address.rawValue == value)
        #expect(address.description == text)
    }

    @Test(arguments: [
        "1.2.3", "256.1.1.1", "01.2.3.4", "1.2.3.04", "1.2.3.4.5", "", "1..2.3", "1.2.3.", ".1.2.3",
        "a.b.c.d", " 1.2.3.4", "1.2.3.4 ", "1.2.3.-1", "1.2.3.1000", "1.2.3.4/24", "0x1.2.3.4", "١.٢.٣.٤",
        // Signed octets: UInt8("+1") is 1 and UInt8("-0") is 0 in Swift.
        "+1.2.3.4", "1.2.3.+4", "-0.1.2.3",
    ])
    func ipv4Rejects(text: String) {
        #expect(IPv4Address(text) == nil)
    }

    @Test func ipv4Kinds() {
        #expect(IPv4Address(224, 0, 0, 251).isMulticast)
        #expect(IPv4Address(239, 255, 255, 255).isMulticast)
        #expect(!IPv4Address(240, 0, 0, 1).isMulticast)
        #expect(!IPv4Address(223, 255, 255, 255).isMulticast)
        #expect(IPv4Address(10, 0, 0, 1) < IPv4Address(10, 0, 1, 0))
    }

    // MARK: IPv6

    @Test(arguments: [
        ("2001:db8::1", [0x2001, 0x0db8, 0, 0, 0, 0, 0, 1] as [UInt16]),
        ("::", [0, 0, 0, 0, 0, 0, 0, 0]),
        ("::1", [0, 0, 0, 0, 0, 0, 0, 1]),
        ("1::", [1, 0, 0, 0, 0, 0, 0, 0]),
        ("1:2:3:4:5:6:7:8", [1, 2, 3, 4, 5, 6, 7, 8]),
        ("2001:DB8:0:0:8:800:200C:417A", [0x2001, 0xdb8, 0, 0, 8, 0x800, 0x200c, 0x417a]),  // RFC 4291 §2.2
        ("FF01::101", [0xff01, 0, 0, 0, 0, 0, 0, 0x101]),                                     // RFC 4291 §2.2
        ("::ffff:192.0.2.1", [0, 0, 0, 0, 0, 0xffff, 0xc000, 0x0201]),
        ("::13.1.68.3", [0, 0, 0, 0, 0, 0, 0x0d01, 0x4403]),                                  // RFC 4291 §2.2
        ("0:0:0:0:0:FFFF:129.144.52.38", [0, 0, 0, 0, 0, 0xffff, 0x8190, 0x3426]),           // RFC 4291 §2.2
        ("1:2:3:4:5:6:7::", [1, 2, 3, 4, 5, 6, 7, 0]),
        ("::2:3:4:5:6:7:8", [0, 2, 3, 4, 5, 6, 7, 8]),
        ("2001:0db8:0000:0000:0000:0000:0000:0001", [0x2001, 0xdb8, 0, 0, 0, 0, 0, 1]),
    ])
    func ipv6Parse(text: String, groups: [UInt16]) throws {
        let address = try #require(IPv6Address(text))
        #expect(address.groups == groups)
    }

    @Test(arguments: [
        "1:2:3:4:5:6:7:8:9", ":::", "1::2::3", "12345::", "::g", "1:2:3:4:5:6:7", ":1::", "1:", ":1", "",
        "1:2:3:4:5:6:7:8::", "::1:2:3:4:5:6:7:8", "::1.2.3", "::256.1.1.1", "::1.2.3.4:5", "1:2:3:4:5:6:7:1.2.3.4",
        "fe80::1%eth0", "2001:db8::1/64", " ::1", "::01.2.3.4",
        // RFC 4291 §2.2: the dotted IPv4 part is the low-order 32 bits, so it comes last.
        "1.2.3.4::", "1:1.2.3.4::5",
        // Signed groups: UInt16("+1", radix: 16) is 1 in Swift.
        "+1::", "::-0", "1:2:3:4:5:6:7:+8",
    ])
    func ipv6Rejects(text: String) {
        #expect(IPv6Address(text) == nil)
    }

    /// RFC 5952 §4 (and §5 for IPv4-mapped addresses).
    @Test(arguments: [
        // §4.1: leading zeros dropped.
        ("2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1"),
        ("2001:db8:00aa:000b:0:0:0:1", "2001:db8:aa:b::1"),
        // §4.2.1: "::" as long as possible.
        ("2001:db8:0:0:0:0:2:1", "2001:db8::2:1"),
        ("2001:db8::0:1", "2001:db8::1"),
        // §4.2.2: a single 0 group is not shortened.
        ("2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"),
        ("1:0:2:0:3:0:4:0", "1:0:2:0:3:0:4:0"),
        // §4.2.3: the longest run; the first on a tie.
        ("2001:0:0:1:0:0:0:1", "2001:0:0:1::1"),
        ("2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"),
        ("0:0:1:0:0:1:0:0", "::1:0:0:1:0:0"),
        // §4.3: lower case.
        ("2001:DB8::ABCD:EF", "2001:db8::abcd:ef"),
        // Runs at either end, and all zeros.
        ("0:0:0:0:0:0:0:0", "::"),
        ("0:0:0:0:0:0:0:1", "::1"),
        ("1:0:0:0:0:0:0:0", "1::"),
        ("fe80:0:0:0:0:0:0:0", "fe80::"),
        ("0:1:2:3:4:5:6:7", "0:1:2:3:4:5:6:7"),
        ("1:2:3:4:5:6:7:0", "1:2:3:4:5:6:7:0"),
        // §5: IPv4-mapped addresses end in a dotted quad.
        ("::ffff:c000:0201", "::ffff:192.0.2.1"),
        ("0:0:0:0:0:ffff:a00:1", "::ffff:10.0.0.1"),
        // Not mapped: the dotted form is only for ::ffff:0:0/96.
        ("::fffe:c000:201", "::fffe:c000:201"),
        ("1::ffff:c000:201", "1::ffff:c000:201"),
    ])
    func ipv6CanonicalText(input: String, canonical: String) throws {
        let address = try #require(IPv6Address(input))
        #expect(address.description == canonical)
        #expect(IPv6Address(canonical) == address)
    }

    @Test func ipv6Kinds() {
        #expect(IPv6Address("ff02::16")!.isMulticast)
        #expect(!IPv6Address("fe80::1")!.isMulticast)
        #expect(IPv6Address("::1")! < IPv6Address("::2")!)
        #expect(IPv6Address("::ffff:ffff")! < IPv6Address("0:0:0:1::")!)
        #expect(IPv6Address("2001:db8::1")! == IPv6Address(high: 0x2001_0db8_0000_0000, low: 1))
    }

    /// Reading addresses from bytes: the byte helpers put the first octet highest.
    @Test func addressesFromBytes() {
        let bytes: [UInt8] = [
            0x02, 0x42, 0xac, 0x11, 0x00, 0x02,  // MAC 02:42:ac:11:00:02
            0x0a, 0xf4, 0x01, 0x05,              // IPv4 10.244.1.5
            0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01,  // IPv6 2001:db8::1
        ]
        let span = bytes.span.bytes
        #expect(span.mac(at: 0) == MACAddress("02:42:ac:11:00:02"))
        #expect(span.ipv4(at: 6) == IPv4Address("10.244.1.5"))
        #expect(span.ipv6(at: 10) == IPv6Address("2001:db8::1"))
        let written = emitted(count: 26) { out in
            out.setMAC(MACAddress("02:42:ac:11:00:02")!, at: 0)
            out.setIPv4(IPv4Address("10.244.1.5")!, at: 6)
            out.setIPv6(IPv6Address("2001:db8::1")!, at: 10)
        }
        #expect(written == bytes)
    }
}
