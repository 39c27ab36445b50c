/// What went through a live port, beside the pipeline's own counters.
public struct LivePortCounters: Sendable, Equatable {
    /// Frames read from the device.
    public var received = 0
    /// Frames written to the device.
    public var sent = 0
    /// Frames dropped because the device's queue was full (the write would block).
    public var sendBlocked = 0
    /// Frames dropped because the port was down.
    public var sendWhileDown = 0
    /// Frames refused because a stage changed the length of a frame to be segmented.
    public var offloadRefused = 0
    /// Super-frames read (a virtio-net header asking for segmentation: TSO, or UDP-tunnel GSO).
    public var superFramesReceived = 0
    /// Super-frames written whole, for the kernel to segment or pass on.
    public var superFramesSent = 0
    /// Super-frames Pier cut into segments itself because the device could not take them.
    public var superFramesSegmented = 0
    /// Super-frames written that Pier joined from two or more TCP segments (GRO); `sent`
    /// counts their segments.
    public var coalescedSent = 0
    /// Writes that failed otherwise (a failed read takes the port down instead).
    public var errors = 0

    /// All zero.
    public init() {}
}
