import CPcap
import Wire

/// libpcap speaks DLT values, capture files LINKTYPE values. They are equal except for a few
/// historical types whose DLT differs by platform (`DLT_RAW` is 12 on Linux, `LINKTYPE_RAW`
/// 101), which libpcap maps internally without exporting the map; this is that map.
extension LinkType {
    /// The link type of a libpcap DLT value (`pcap_datalink`).
    init(dlt: Int32) {
        switch dlt {
        case DLT_ATM_RFC1483: self.init(rawValue: 100)
        case DLT_RAW: self = .raw
        case DLT_SLIP_BSDOS: self.init(rawValue: 102)
        case DLT_PPP_BSDOS: self.init(rawValue: 103)
        case DLT_ATM_CLIP: self.init(rawValue: 106)
        case DLT_PFSYNC: self.init(rawValue: 246)
        default: self.init(rawValue: UInt32(bitPattern: dlt))
        }
    }

    /// The DLT value libpcap wants for this link type (`pcap_open_dead`).
    var dlt: Int32 {
        switch rawValue {
        case 100: DLT_ATM_RFC1483
        case 101: DLT_RAW
        case 102: DLT_SLIP_BSDOS
        case 103: DLT_PPP_BSDOS
        case 106: DLT_ATM_CLIP
        case 246: DLT_PFSYNC
        default: Int32(bitPattern: rawValue)
        }
    }
}
