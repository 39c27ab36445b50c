import ArgumentParser
import Dataplane
import Inspect
import PacketIO
import Wire

/// `pier inspect FILE [--json] [--filter BPF] [--vxlan-port N]…`: decode every frame of a
/// capture, one tcpdump-like line each, or one JSON object per line.
struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Decode every frame of a capture: a tcpdump-like line each, or JSON with --json.",
        discussion: """
            JSON keys are Wireshark's field names (ip.src, tcp.flags, vxlan.vni, …); layers \
            inside VXLAN, GENEVE, IP-in-IP or an ICMP error's quote go under "inner". A frame \
            that fails to decode keeps the layers that did and adds "error".
            """)

    @Argument(help: "A pcap or pcapng capture.")
    var file: String

    @Flag(help: "One JSON object per frame instead of a text line.")
    var json = false

    @Option(help: "A BPF filter expression (tcpdump syntax); frames that do not match are skipped.")
    var filter: String?

    @Option(name: .customLong("vxlan-port"), help: "A UDP port to decode as VXLAN (repeatable; default 4789 and 8472).")
    var vxlanPorts: [UInt16] = []

    @Flag(help: "Print times with nine fraction digits instead of six.")
    var nanoseconds = false

    func validate() throws {
        guard vxlanPorts.count <= 4 else { throw ValidationError("at most four --vxlan-port values") }
    }

    func run() throws {
        let reader = try PcapReader(path: file)
        let packetFilter = try filter.map { expression throws(CaptureError) in
            try PacketFilter(expression: expression, linkType: reader.linkType, snapLength: reader.snapLength)
        }
        let dissector = FrameDissector(decoder: FrameDecoder(
            vxlanPorts: vxlanPorts.isEmpty ? FrameDecoder.defaultVXLANPorts : vxlanPorts))
        var output = OutputBuffer()
        var frame = Frame()
        do {
            while try reader.next(into: &frame) {
                if let packetFilter, !packetFilter.matches(frame) { continue }
                let interface = reader.lastInterface
                let metadata = FrameDissector.Metadata(
                    number: reader.recordsRead, timestamp: frame.timestamp.nanoseconds,
                    originalLength: frame.originalLength, linkType: interface?.linkType ?? reader.linkType,
                    interfaceName: interface?.name, hasTimestamp: reader.lastHadTimestamp)
                output.writeLine(json
                    ? dissector.json(frame.bytes, metadata).serialized
                    : dissector.line(frame.bytes, metadata, nanosecondTimes: nanoseconds))
            }
        } catch {
            output.flush()
            throw error
        }
        output.flush()
    }
}
