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
}
