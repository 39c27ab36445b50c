import CPcap
import Dataplane
import Wire

/// A BPF filter (`tcpdump` syntax, `pcap-filter(7)`), compiled by libpcap for one link type and
/// run on frames by libpcap's BPF interpreter.
///
/// It matches what `tcpdump -r FILE EXPRESSION` would print, which is not always what a
/// Wireshark display filter of the same name matches: `arp` does not see the ARP inside a
/// VXLAN packet.
public final class PacketFilter {
    /// The expression, as given.
    public let expression: String
    /// The link type the filter was compiled for; frames must be of this type.
    public let linkType: LinkType

    private let program: UnsafeMutablePointer<bpf_program>

    /// Compiles `expression` (optimized, netmask unknown) for frames of `linkType`; throws with
    /// the expression and libpcap's message when it does not compile.
    public init(expression: String, linkType: LinkType, snapLength: Int = 262_144) throws(CaptureError) {
        let subject = "filter \"\(expression)\""
        guard let handle = pcap_open_dead(linkType.dlt, Int32(clamping: snapLength)) else {
            throw CaptureError(file: subject, problem: "libpcap could not make a handle for link type \(linkType)")
        }
        defer { pcap_close(handle) }
        let program = UnsafeMutablePointer<bpf_program>.allocate(capacity: 1)
        program.initialize(to: bpf_program())
        guard pcap_compile(handle, program, expression, 1, PCAP_NETMASK_UNKNOWN) == 0 else {
            let problem = pcapMessage(handle)
            program.deallocate()
            throw CaptureError(file: subject, problem: problem)
        }
        self.expression = expression
        self.linkType = linkType
        self.program = program
    }

    deinit {
        pcap_freecode(program)
        program.deallocate()
    }

    /// True when the filter accepts `frame`: its bytes, with its original length (at least its
    /// byte count) as the wire length.
    public func matches(_ frame: borrowing Frame) -> Bool {
        var header = pcap_pkthdr()
        header.caplen = UInt32(frame.count)
        header.len = UInt32(clamping: max(frame.originalLength, frame.count))
        return frame.withUnsafeBytes { bytes in
            pcap_offline_filter(program, &header, bytes.baseAddress?.assumingMemoryBound(to: UInt8.self)) != 0
        }
    }
}
