import Dataplane
import Wire

/// The GRO part of the fuzz target: an input that `SegmentCoalescer` takes for a TCP segment
/// (its TCP checksum taken as verified, so the fuzzer need not get it right) is joined with a
/// copy of itself that follows on (sequence number advanced by its payload, IPv4
/// identification by one). Invariants: no trap; when the copy joins, the super-frame is one
/// set of headers and both payloads, and `SoftwareSegmenter` cuts it back into two segments
/// that carry the original payload each.
enum FuzzCoalescer {
    nonisolated(unsafe) static let coalescer = SegmentCoalescer()
    nonisolated(unsafe) static let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: 70_000, alignment: 64)
    static let port = PortID(rawValue: 1)

    static func check(_ frame: UnsafeRawBufferPointer) {
        guard let segment = SegmentCoalescer.segment(in: frame, checksumsVerified: true) else { return }
        var next = Array(frame)
        let sequence = load32(next, segment.transport + 4) &+ UInt32(truncatingIfNeeded: segment.payload)
        store16(&next, segment.transport + 4, UInt16(truncatingIfNeeded: sequence >> 16))
        store16(&next, segment.transport + 6, UInt16(truncatingIfNeeded: sequence))
        if !segment.isIPv6 {
            let id = UInt16(next[segment.network + 4]) << 8 | UInt16(next[segment.network + 5])
            store16(&next, segment.network + 4, id &+ 1)
            store16(&next, segment.network + 10, 0)
            let sum = next.withUnsafeBytes { InternetChecksum.sum(RawSpan(_unsafeStart: $0.baseAddress! + segment.network, byteCount: 20)) }
            store16(&next, segment.network + 10, ~sum)
        }
        coalescer.reset()
        coalescer.start(frame, segment, port: port)
        let joined = next.withUnsafeBytes { bytes -> Bool in
            guard let following = SegmentCoalescer.segment(in: bytes, checksumsVerified: true) else {
                preconditionFailure("a segment moved on by its own payload is no longer a segment")
            }
            return coalescer.join(bytes, following, port: port)
        }
        guard joined else { return }
        coalescer.seal()
        precondition(coalescer.frame.count == frame.count + segment.payload, "the super-frame is not headers and both payloads")
        var pieces = 0
        let payload = UnsafeRawBufferPointer(rebasing: frame[segment.headers...])
        let outcome = SoftwareSegmenter.segment(coalescer.frame, offload: coalescer.offload, scratch: scratch) { piece in
            pieces += 1
            precondition(piece.count == frame.count && piece[segment.headers...].elementsEqual(payload),
                         "segment \(pieces) does not carry the payload joined")
            return true
        }
        precondition(outcome == .success(2) && pieces == 2, "the super-frame did not cut back into two segments: \(outcome)")
        coalescer.reset()
    }

    private static func load32(_ bytes: [UInt8], _ offset: Int) -> UInt32 {
        UInt32(bytes[offset]) << 24 | UInt32(bytes[offset + 1]) << 16 | UInt32(bytes[offset + 2]) << 8 | UInt32(bytes[offset + 3])
    }

    private static func store16(_ bytes: inout [UInt8], _ offset: Int, _ value: UInt16) {
        bytes[offset] = UInt8(value >> 8)
        bytes[offset + 1] = UInt8(value & 0xFF)
    }
}
