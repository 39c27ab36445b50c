import Wire

extension ClassifyStage {
    /// Classifies the common frame without the general decoder: untagged Ethernet, IPv4
    /// without options, whole (total length within the bytes) and unfragmented, carrying TCP,
    /// UDP or ICMP whose header fits, from a station MAC to a destination that is not an 802.1D
    /// reserved group. Anything else returns false untouched, for `classify`, which reaches
    /// the same offsets for every frame this accepts (checked by `FastClassifyTests`).
    ///
    /// Used for every frame that enters and for frames the overlay decapsulates: classifying
    /// the inner frame with the full decoder was 40% of decap time (`pier bench vxlan-decap`),
    /// and the full decode was a tenth of a routed replay's instructions (callgrind).
    func classifyPlainIPv4(_ frame: inout Frame) -> Bool {
        guard let proto = plainIPv4Protocol(frame.bytes) else { return false }
        frame.layers = LayerOffsets(untagged: .ipv4, transport: IPProtocol(rawValue: proto), at: IPv4Header.minimumLength)
        return true
    }

    /// The transport protocol of a frame `classifyPlainIPv4` accepts, else nil.
    private func plainIPv4Protocol(_ bytes: RawSpan) -> UInt8? {
        let count = bytes.byteCount
        let network = EthernetHeader.length
        guard count >= network + IPv4Header.minimumLength + 8,
              bytes.u16(at: EthernetHeader.Field.etherType) == 0x0800,  // IPv4
              bytes.u8(at: network) == 0x45 else { return nil }  // version 4, no options
        let source = bytes.u48(at: EthernetHeader.Field.source)
        let destination = bytes.u48(at: EthernetHeader.Field.destination)
        guard source & 0x0100_0000_0000 == 0, source != 0, destination & ~0xF != 0x0180_C200_0000 else { return nil }
        let total = Int(bytes.u16(at: network + IPv4Header.Field.totalLength))
        guard total >= IPv4Header.minimumLength + 8, network + total <= count,
              bytes.u16(at: network + IPv4Header.Field.flagsAndFragmentOffset) & 0x3FFF == 0 else { return nil }
        let transport = network + IPv4Header.minimumLength
        let proto = bytes.u8(at: network + IPv4Header.Field.protocol)
        switch proto {
        case 6:  // TCP: the data offset's header inside the packet
            let headerLength = Int(bytes.u8(at: transport + 12) >> 4) * 4
            guard headerLength >= 20, IPv4Header.minimumLength + headerLength <= total else { return nil }
        case 17:  // UDP: a sane length, and not port 0 (which the decoder would treat as GENEVE's when unset)
            guard bytes.u16(at: transport + UDPHeader.Field.length) >= UDPHeader.length,
                  bytes.u16(at: transport + UDPHeader.Field.destinationPort) != 0 else { return nil }
        case 1:  // ICMP: the 8-byte header is inside (checked above)
            break
        default:
            return nil
        }
        return proto
    }
}
