import Foundation
import Testing

/// `pier bench decode --json`: the shape of the output only, never a speed.
struct BenchSmokeTests {
    @Test func decodeJSON() throws {
        let result = try Tool.pier("bench", "decode", "--packets", "100000", "--json")
        #expect(result.status == 0, "\(result)")
        let lines = result.lines
        try #require(!lines.isEmpty, "\(result)")
        for line in lines {
            let object = try JSON.parse(line)
            #expect(object["stage"]?.text == "decode", "\(line)")
            if case .string = object["stage"] {} else { Issue.record("stage is not a string: \(line)") }
            for key in ["mpps", "ns_per_frame", "allocs_per_frame"] {
                #expect(object[key]?.isNumber == true, "\(key) is not a number: \(line)")
            }
        }
    }

    /// `pier bench nat --json`: new connections, the table's bytes per connection reported.
    @Test func natJSON() throws {
        let result = try Tool.pier("bench", "nat", "--packets", "6400", "--json")
        #expect(result.status == 0, "\(result)")
        let object = try JSON.parse(try #require(result.lines.first))
        #expect(object["stage"]?.text == "nat-new")
        #expect(object["frames"]?.integer == 6400)
        #expect(object["allocs_per_frame"]?.isNumber == true)
        #expect(object["memory_bytes_per_entry"]?.isNumber == true)
    }

    /// `pier bench defrag --json`: two-fragment datagrams reassembled, counted as datagrams
    /// (half the fragments), none allocating once warm.
    @Test func defragJSON() throws {
        let result = try Tool.pier("bench", "defrag", "--packets", "6400", "--json")
        #expect(result.status == 0, "\(result)")
        let object = try JSON.parse(try #require(result.lines.first))
        #expect(object["stage"]?.text == "defrag-2")
        #expect(object["frames"]?.integer == 3200)
        #expect(object["allocs_per_frame"]?.isNumber == true)
    }

    /// The overlay stages: one object per measured stage, each with the contract's numbers.
    /// (Allocations are only counted in the interposed release binary; the shape is what matters.)
    @Test func overlayStagesJSON() throws {
        let result = try Tool.pier("bench", "vxlan-encap", "vxlan-decap", "ipip", "--packets", "6400", "--json")
        #expect(result.status == 0, "\(result)")
        let objects = try result.lines.map { try JSON.parse($0) }
        #expect(objects.compactMap { $0["stage"]?.text } == ["vxlan-encap", "vxlan-decap", "ipip-encap", "ipip-decap", "udp-encap", "udp-decap"])
        for object in objects {
            for key in ["mpps", "ns_per_frame", "allocs_per_frame"] {
                #expect(object[key]?.isNumber == true, "\(key) is not a number: \(object)")
            }
        }
        // The decap benches check their own work: a frame left undecapsulated stops the bench
        // (a precondition), which the exit status above would show.
    }
}
