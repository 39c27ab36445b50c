import Testing
import Wire
@testable import Dataplane

/// netfilter's TCP states, walked by flag and direction (`tcp_conntracks` in
/// nf_conntrack_proto_tcp.c for the transitions Pier keeps).
struct TCPTrackerTests {
    typealias Step = (flags: TCPFlags, direction: FlowDirection, expected: TCPState)

    /// Runs `steps` from SYN_SENT, carrying the FIN sender as the conntrack stage does.
    static func walk(_ steps: [Step]) -> [TCPState] {
        var state = TCPState.synSent
        var finFrom = FlowDirection.original
        var seen: [TCPState] = []
        for step in steps {
            guard case .state(let next) = TCPTracker.next(state, flags: step.flags, direction: step.direction, finFrom: finFrom) else {
                Issue.record("unexpected reopen")
                return seen
            }
            if next != state, let sender = TCPTracker.finSender(movedTo: next, flags: step.flags, direction: step.direction) {
                finFrom = sender
            }
            state = next
            seen.append(state)
        }
        return seen
    }

    @Test func theClientClosesFirst() {
        let steps: [Step] = [
            ([.syn, .ack], .reply, .synRecv), ([.ack], .original, .established), ([.psh, .ack], .reply, .established),
            ([.fin, .ack], .original, .finWait), ([.ack], .reply, .closeWait), ([.fin, .ack], .reply, .lastAck),
            ([.ack], .original, .timeWait),
        ]
        #expect(Self.walk(steps) == steps.map(\.expected))
    }

    @Test func theServerClosesFirstAndBothFINsCross() {
        let steps: [Step] = [
            ([.syn, .ack], .reply, .synRecv), ([.ack], .original, .established),
            ([.fin, .ack], .reply, .finWait), ([.fin, .ack], .original, .lastAck), ([.ack], .reply, .timeWait),
        ]
        #expect(Self.walk(steps) == steps.map(\.expected))
    }

    @Test func aResetCloses() {
        #expect(Self.walk([([.syn, .ack], .reply, .synRecv), ([.rst], .original, .close)]) == [.synRecv, .close])
        #expect(Self.walk([([.rst, .ack], .reply, .close)]) == [.close])
    }

    @Test func aSYNOnAClosedConnectionReopensIt() {
        #expect(TCPTracker.next(.timeWait, flags: [.syn], direction: .original, finFrom: .original) == .reopen)
        #expect(TCPTracker.next(.close, flags: [.syn], direction: .original, finFrom: .original) == .reopen)
        #expect(TCPTracker.next(.established, flags: [.syn], direction: .original, finFrom: .original) == .state(.established))
    }

    @Test(arguments: [
        (TCPFlags.syn, true), ([.syn, .ack], false), ([.ack], false), ([.rst], false), ([.fin, .ack], false),
        ([.syn, .fin], false), ([.psh, .ack], false),
    ] as [(TCPFlags, Bool)])
    func onlyABareSYNOpens(flags: TCPFlags, opens: Bool) {
        #expect(TCPTracker.opens(flags) == opens)
    }
}
