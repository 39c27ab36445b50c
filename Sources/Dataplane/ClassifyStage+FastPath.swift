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
              bytes.u16(at: EthernetHeader.Field.etherType) == EtherType.ipv4.rawValue,
              bytes.u8(at: network) == IPv4Header.versionAndMinimumIHL else { return nil }
        let source = bytes.u48(at: EthernetHeader.Field.source)
        let destination = bytes.u48(at: EthernetHeader.Field.destination)
        guard source & MACAddress.groupBit == 0, source != 0,
              destination & ~MACAddress.reservedGroupMask != MACAddress.reservedGroupBase else { return nil }
        let total = Int(bytes.u16(at: network + IPv4Header.Field.totalLength))
        guard total >= IPv4Header.minimumLength + 8, network + total <= count,
              bytes.u16(at: network + IPv4Header.Field.flagsAndFragmentOffset) & IPv4Header.FragmentMask.anyFragment == 0
        else { return nil }
        let transport = network + IPv4Header.minimumLength
        let proto = bytes.u8(at: network + IPv4Header.Field.protocol)
        switch IPProtocol(rawValue: proto) {
        case .tcp:  // the data offset's header inside the packet
            let headerLength = Int(bytes.u8(at: transport + TCPHeader.Field.dataOffsetAndFlags) >> 4) * 4
            guard headerLength >= TCPHeader.minimumLength, IPv4Header.minimumLength + headerLength <= total else { return nil }
        case .udp:  // a sane length, and not port 0 (which the decoder would treat as GENEVE's when unset)
            guard bytes.u16(at: transport + UDPHeader.Field.length) >= UDPHeader.length,
                  bytes.u16(at: transport + UDPHeader.Field.destinationPort) != 0 else { return nil }
        case .icmp:  // the 8-byte header is inside (checked above)
            break
        default:
            return nil
        }
        return proto
    }
}
