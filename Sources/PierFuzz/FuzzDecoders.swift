import Inspect
import Wire

/// The libFuzzer target over Pier's decoders: the first input byte picks the link type and
/// whether the capture was cut; the rest is the frame. Each input is decoded, then dissected
/// to JSON and to a text line, which reads every field of every layer the decoder recorded,
/// and every Repr that parses from a decoded layer is emitted again and re-parsed. Then the
/// bytes go through the overlay pipelines (`FuzzOverlay`), raw and inside valid outer headers.
///
/// Build and run: `make fuzz` (`swift build -c release --sanitize=fuzzer -Xswiftc -sanitize=fuzzer,address
/// -Xswiftc -DFUZZING --product PierFuzz`). Without `FUZZING` the target is a plain program
/// that runs the same checks over files named on its command line: the regression corpus
/// in `fixtures/fuzz-corpus` runs that way in `make test`.
enum FuzzDecoders {
    static let linkTypes: [LinkType] = [.ethernet, .raw, .linuxSLL, .linuxSLL2, .ipv4, .ipv6]
    static let dissector = FrameDissector(decoder: FrameDecoder(vxlanPorts: [4789, 8472]))

    /// Runs one input through every decoder; traps (a crash libFuzzer reports) on a broken
    /// invariant.
    static func check(_ input: UnsafeRawBufferPointer) {
        guard let selector = input.first else { return }
        let linkType = linkTypes[Int(selector & 0x7) % linkTypes.count]
        let frame = UnsafeRawBufferPointer(rebasing: input.dropFirst())
        let originalLength = selector & 0x80 != 0 ? frame.count + 100 : frame.count
        let bytes = frame.bytes
        let decoded = dissector.decoder.decode(bytes, linkType: linkType, capturedAll: originalLength == frame.count)
        // Every recorded layer lies inside the frame, in order, and nests sensibly.
        var previousOffset = 0
        for index in 0..<decoded.layerCount {
            let layer = decoded.layers[index]
            precondition(layer.offset >= previousOffset && layer.offset <= layer.end && layer.end <= frame.count,
                         "layer \(index) out of bounds")
            previousOffset = layer.offset
            roundTrip(layer, layer.bytes(in: bytes))
        }
        let metadata = FrameDissector.Metadata(number: 1, timestamp: 0, originalLength: originalLength, linkType: linkType)
        _ = dissector.json(bytes, metadata).serialized
        _ = dissector.line(bytes, metadata)
        // The overlay stages (decap, and encap of what decap routes back) over the same bytes.
        FuzzOverlay.check(frame, selector: selector)
        // GRO: the frame joined with a copy of itself that follows on.
        FuzzCoalescer.check(frame)
    }

    /// Emits the layer's repr and parses it again: the same repr must come back.
    static func roundTrip(_ layer: Layer, _ bytes: RawSpan) {
        switch layer.kind {
        case .ethernet:
            guard let header = try? EthernetHeader(validating: bytes) else { return }
            let repr = EthernetRepr(header)
            var out = [UInt8](repeating: 0, count: EthernetHeader.length)
            out.withMutableRawSpan { repr.emit(into: &$0) }
            precondition((try? EthernetRepr(EthernetHeader(validating: out.span.bytes))) == repr, "Ethernet round trip")
        case .ipv4:
            guard let header = try? IPv4Header(validating: bytes) else { return }
            let repr = IPv4Repr(header)
            var out = [UInt8](repeating: 0, count: repr.headerLength)
            out.withMutableRawSpan { repr.emit(into: &$0) }
            // The emitted header has a total length the 20+ bytes cannot hold: parse the header only.
            precondition((try? IPv4Repr(IPv4Header(validating: out.span.bytes))) == repr, "IPv4 round trip")
        case .tcp:
            guard let header = try? TCPHeader(validating: bytes) else { return }
            let repr = TCPRepr(header)
            var out = [UInt8](repeating: 0, count: repr.headerLength)
            out.withMutableRawSpan { repr.emit(into: &$0, pseudoHeaderSum: 0) }
            precondition((try? TCPRepr(TCPHeader(validating: out.span.bytes))) == repr, "TCP round trip")
        case .geneve:
            guard let header = try? GENEVEHeader(validating: bytes) else { return }
            let repr = GENEVERepr(header)
            var out = [UInt8](repeating: 0, count: repr.headerLength)
            out.withMutableRawSpan { repr.emit(into: &$0) }
            precondition((try? GENEVERepr(GENEVEHeader(validating: out.span.bytes))) == repr, "GENEVE round trip")
        case .icmpv6:
            guard let message = try? ICMPv6Message(validating: bytes), let repr = try? NeighborDiscoveryRepr(message) else { return }
            var out = [UInt8](repeating: 0, count: repr.length)
            out.withMutableRawSpan { repr.emit(into: &$0, pseudoHeaderSum: 0) }
            precondition((try? NeighborDiscoveryRepr(ICMPv6Message(validating: out.span.bytes))) == repr, "neighbour discovery round trip")
        default:
            return
        }
    }
}

#if FUZZING
/// libFuzzer's entry point.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOneInput(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    FuzzDecoders.check(UnsafeRawBufferPointer(start: data, count: size))
    return 0
}
#else
#if canImport(Glibc)
import Glibc
#endif

/// Replays corpus files (or every file in the directories named) through the fuzz checks.
@main
struct CorpusReplay {
    static func main() {
        var count = 0
        for path in CommandLine.arguments.dropFirst() {
            for file in files(at: path) {
                guard let bytes = read(file) else {
                    print("PierFuzz: cannot read \(file)")
                    exit(2)
                }
                bytes.withUnsafeBytes { FuzzDecoders.check($0) }
                count += 1
            }
        }
        print("PierFuzz: \(count) corpus inputs decoded without a fault")
    }

    /// The regular files at `path`: itself, or the entries of a directory.
    static func files(at path: String) -> [String] {
        guard let directory = opendir(path) else { return [path] }
        defer { closedir(directory) }
        var result: [String] = []
        while let entry = readdir(directory) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if name != "." && name != ".." { result.append(path + "/" + name) }
        }
        return result.sorted()
    }

    /// The whole contents of `path`.
    static func read(_ path: String) -> [UInt8]? {
        guard let file = fopen(path, "rb") else { return nil }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var buffer = [UInt8](repeating: 0, count: 65_536)
        while true {
            let count = fread(&buffer, 1, buffer.count, file)
            if count <= 0 { break }
            bytes += buffer[0..<count]
        }
        return bytes
    }
}
#endif
