import Dataplane
import Testing

/// Every drop reason and event belongs to exactly one part of the pipeline (the one that
/// lists it beside its code), and each has a unique kebab-case name and a description.
struct CountedPartsTests {
    @Test func everyDropReasonBelongsToOnePart() {
        let listed = CountedParts.all.flatMap { $0.dropReasons }
        #expect(listed.sorted { $0.rawValue < $1.rawValue } == DropReason.allCases)
    }

    @Test func everyEventBelongsToOnePart() {
        let listed = CountedParts.all.flatMap { $0.events }
        #expect(listed.sorted { $0.rawValue < $1.rawValue } == PipelineCounters.Event.allCases)
    }

    @Test func namesAreUniqueKebabCaseAndDescribed() {
        let names = DropReason.allCases.map(\.name) + PipelineCounters.Event.allCases.map(\.name)
        #expect(Set(DropReason.allCases.map(\.name)).count == DropReason.allCases.count)
        #expect(Set(PipelineCounters.Event.allCases.map(\.name)).count == PipelineCounters.Event.allCases.count)
        for name in names {
            #expect(!name.isEmpty && name.allSatisfy { $0.isLowercase || $0.isNumber || $0 == "-" }, "\(name) is not kebab-case")
        }
        #expect(DropReason.allCases.allSatisfy { !$0.description.isEmpty })
        #expect(PipelineCounters.Event.allCases.allSatisfy { !$0.description.isEmpty })
        #expect(DropReason.noRoute.name == "no-route" && PipelineCounters.Event.sourceNAT.name == "snat")
    }
}
