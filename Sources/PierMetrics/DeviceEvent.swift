/// What a live port's device did beside the pipeline's counts (the switch's stats line
/// names them the same): frames its writes dropped, and the super-frames it read, wrote whole,
/// had Pier segment or had Pier join (GRO). Exposed as `pier_port_device_events_total{port,event}`.
public enum DeviceEvent: String, Sendable, Hashable, CaseIterable {
    /// Frames dropped because the device's queue was full (the write would block).
    case txBlocked = "tx-blocked"
    /// Frames dropped because the port or its link was down.
    case txDown = "tx-down"
    /// Super-frames refused because a stage changed a frame to be segmented.
    case offloadRefused = "offload-refused"
    /// Super-frames read (a segmentation request in the virtio-net header).
    case rxSuper = "rx-super"
    /// Super-frames written whole.
    case txSuper = "tx-super"
    /// Super-frames Pier segmented because the device could not take them.
    case txSegmented = "tx-segmented"
    /// Super-frames Pier joined from TCP segments (GRO).
    case txCoalesced = "tx-coalesced"
    /// Writes that failed otherwise.
    case errors

    /// What it counts, for the HELP line.
    var description: String {
        switch self {
        case .txBlocked: "frames dropped: the device's queue was full"
        case .txDown: "frames dropped: the port or its link was down"
        case .offloadRefused: "super-frames refused: a stage changed their length"
        case .rxSuper: "super-frames read"
        case .txSuper: "super-frames written whole"
        case .txSegmented: "super-frames segmented by Pier"
        case .txCoalesced: "super-frames joined from TCP segments (GRO)"
        case .errors: "writes that failed otherwise"
        }
    }
}
