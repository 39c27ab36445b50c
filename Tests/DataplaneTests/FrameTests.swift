import Testing
import Wire
@testable import Dataplane

/// Frames own their bytes, keep headroom in front, and move/clone as STYLE.md principle 7 says.
struct FrameTests {
    let sample: [UInt8] = Array(0..<60)

    @Test func freshFrameHasTheHeadroomTheDesignPromises() {
        let frame = Frame()
        #expect(frame.availableHeadroom >= 128)
        #expect(frame.count == 0)
        #expect(frame.inputPort == .none)
    }

    @Test func replacingContentsCopiesTheBytes() {
        var source = sample
        let frame = Frame(bytes: source)
        source[0] = 0xFF  // the frame must not share the array's storage
        #expect(frame.count == 60)
        #expect(frame.originalLength == 60)
        let contents = frame.withUnsafeBytes { Array($0) }
        #expect(contents == sample)
    }

    @Test func prependTakesFromTheHeadroomWithoutMovingThePayload() {
        var frame = Frame(bytes: sample)
        let payloadAddress = frame.withUnsafeBytes { $0.baseAddress }
        let prepended = frame.prepend(50)  // VXLAN over IPv4 adds 50 bytes
        #expect(prepended)
        #expect(frame.count == 110)
        #expect(frame.availableHeadroom == Frame.headroom - 50)
        let movedAddress = frame.withUnsafeBytes { $0.baseAddress.map { $0 + 50 } }
        let tail = frame.withUnsafeBytes { Array($0.suffix(60)) }
        #expect(movedAddress == payloadAddress)
        #expect(tail == sample)
    }

    @Test func prependBeyondTheHeadroomIsRefused() {
        var frame = Frame(bytes: sample)
        let refused = !frame.prepend(Frame.headroom + 1)
        #expect(refused)
        #expect(frame.count == 60)
    }

    @Test func removeFirstAdvancesTheStart() {
        var frame = Frame(bytes: sample)
        frame.removeFirst(14)
        let contents = frame.withUnsafeBytes { Array($0) }
        #expect(contents == Array(sample[14...]))
        #expect(frame.availableHeadroom == Frame.headroom + 14)
    }

    @Test func truncateAndAppend() {
        var frame = Frame(bytes: sample)
        frame.truncate(to: 20)
        #expect(frame.count == 20)
        let appended = frame.append(4)
        #expect(appended)
        #expect(frame.count == 24)
        let tooMuch = frame.append(frame.availableTailroom + 1)
        #expect(!tooMuch)
    }

    @Test func writesThroughMutableBytesLand() {
        var frame = Frame(bytes: sample)
        var bytes = frame.mutableBytes
        bytes.setU16(0xBEEF, at: 2)
        #expect(frame.bytes.u16(at: 2) == 0xBEEF)
    }

    @Test func aFrameLargerThanTheBufferGrowsIt() {
        let big = [UInt8](repeating: 0x5A, count: 200_000)
        var frame = Frame()
        big.withUnsafeBytes { frame.replaceContents(with: $0) }
        #expect(frame.count == 200_000)
        #expect(frame.availableHeadroom == Frame.headroom)
        let intact = frame.withUnsafeBytes { $0.allSatisfy { $0 == 0x5A } }
        #expect(intact)
    }

    @Test(arguments: [
        (Int64(0), "0.000000000"),
        (Int64(1_575_842_394_599_412_000), "1575842394.599412000"),
        (Int64(1_418_145_369_924_505_488), "1418145369.924505488"),
    ])
    func timestampPrintsLikeWiresharkEpochTime(nanoseconds: Int64, text: String) {
        #expect(Timestamp(nanoseconds: nanoseconds).description == text)
    }
}
