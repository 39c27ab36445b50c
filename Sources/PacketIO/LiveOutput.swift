import Dataplane

/// The pipeline's sink for one kind of live port: it writes each frame that leaves to the
/// port's device (and capture), counts what it could not, and notes, for the switch to act on
/// after the batch, ports whose device failed and ports whose link changed.
public protocol LiveOutput: FrameSink {
    /// The kind of port it writes to.
    associatedtype Port: LivePort

    /// An output with no port attached (frames to any port are dropped silently), capturing
    /// to `captures`.
    init(captures: LiveCaptures)
    /// Sends what leaves `port.port` to `port` from now on.
    mutating func attach(_ port: Port)
    /// Drops what leaves `port` from now on, silently.
    mutating func detach(_ port: PortID)
    /// The capture files, for receiving ports to write to and for closing at the end.
    var captures: LiveCaptures { get set }
    /// What happened to ports during the batch.
    var events: LiveOutputEvents { get set }
    /// Writes what `send` queued during the batch (the switch calls it after each batch).
    mutating func flush()
    /// Moves frames through an io_uring from now on; nil when on, else why not.
    mutating func batchIO() -> String?
}

extension LiveOutput {
    /// Nothing queued: every frame was written when sent.
    public mutating func flush() {}
    /// Kinds without batched I/O stay on epoll.
    public mutating func batchIO() -> String? { "this kind of port reads and writes one frame a call" }
}

/// What an output noticed during a batch, for the switch to act on after it.
public struct LiveOutputEvents {
    /// Ports whose device failed: the switch takes them down.
    public var failedPorts: [PortID] = []
    /// Ports whose link went down or came back: the switch logs each once.
    public var linkChanges: [PortID] = []

    /// No events.
    public init() {}
}
