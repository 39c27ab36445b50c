import Dataplane

/// One port of the live switch as its event loop sees it: a device that opens and closes,
/// whose descriptor is watched for readiness, that is drained a batch at a time, and whose
/// link state and counters the switch logs and prints. `TapPort` is one kind; the loop
/// (`LiveSwitch`) is generic over the kind, so the per-frame code is specialized, never called
/// through an existential.
///
/// Receiving is one call per batch (the port reads each frame into a frame the batch keeps,
/// with no allocation); sending is its `Output`'s, the pipeline's sink, so each frame that
/// leaves lands in the kind's concrete code. Link state: a port learns that its device is
/// down when a write says so (TAP: EIO) and that it is up again when a frame crosses; the
/// switch logs each change once per batch.
public protocol LivePort: AnyObject {
    /// Writes the frames the pipeline sends to ports of this kind.
    associatedtype Output: LiveOutput where Output.Port == Self
    /// Where a port's device is, as its log lines name it.
    associatedtype Location: CustomStringConvertible

    /// The port in the pipeline.
    var port: PortID { get }
    /// The port's name in the topology.
    var name: String { get }
    /// Where its device is.
    var location: Location { get }
    /// The descriptor the switch watches for frames to read, or -1 while the port is down.
    var descriptor: Int32 { get }
    /// True while the device is open.
    var isUp: Bool { get }
    /// True while the device is open but its link is down (frames to it are dropped).
    var linkDown: Bool { get }
    /// Why the device's home is gone (TAP: "namespace deleted"), nil while it is there; the
    /// switch checks once a second and takes the port down.
    var goneReason: String? { get }
    /// What went through it.
    var counters: LivePortCounters { get }
    /// What the open device offloads, for the log line after `up` (nil: nothing to say).
    var offloadSummary: String? { get }

    /// Opens the device; returns 0 or the errno that kept it closed.
    func open() -> Int32
    /// Closes the device (the port is down until `open()` succeeds again).
    func close()
    /// Reads frames until `batch` is full or the device has none, each into a frame the batch
    /// keeps, stamped `now`, counted and captured; returns 0, or the errno of a read that
    /// failed (the switch then takes the port down).
    func receive(into batch: inout Batch, from pool: FramePool, now: Timestamp, captures: inout LiveCaptures) -> Int32
}

extension LivePort {
    /// Nothing to say about offloads, unless the kind says otherwise.
    public var offloadSummary: String? { nil }
}
