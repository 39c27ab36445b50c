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
}
