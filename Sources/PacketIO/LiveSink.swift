#if canImport(Glibc)
import Glibc
#endif
import CTap
import Dataplane

/// Where the live switch's pipeline sends frames: each port's TAP device, and its capture
/// file if it has one. A write that would block drops the frame and counts it (the other
/// ports never wait for a slow one); a port that is down, or whose device is down (EIO),
/// counts the frame too; a device that is gone (EBADFD, ENXIO, ENODEV) fails the port.
struct LiveSink: FrameSink {
    /// The TAP port of each pipeline port, nil for a port without a device.
    var ports: [TapPort?]
    /// The capture of each pipeline port, if any.
    var captures: [PcapWriter?]
    /// Wall clock minus monotonic clock, to stamp captures with real times.
    var wallClockOffset: Int64
    /// The first capture write that failed; the switch stops on it.
    var captureFailure: CaptureError?
    /// Room for one virtio-net header, allocated once (ports with offloads).
    let header: UnsafeMutableRawPointer
    /// Ports whose device failed and that the switch must mark down after the batch.
    var failedPorts: [PortID] = []
    /// Ports whose link went down or came back during the batch, for the switch to log.
    var linkChanges: [PortID] = []

    mutating func send(_ frame: borrowing Frame, to port: PortID) {
        let index = Int(port.rawValue)
        guard index < ports.count, let tap = ports[index] else { return }
        guard tap.isUp else {
            tap.counters.sendWhileDown += 1
            return
        }
        let written: Int
        if tap.offloads {
            guard VirtioNetHeader.write(frame.offload, frameLength: frame.count, to: header) else {
                tap.counters.offloadRefused += 1
                return
            }
            written = frame.withUnsafeBytes { bytes in
                pier_write_two(tap.descriptor, header, VirtioNetHeader.size, bytes.baseAddress, bytes.count)
            }
        } else {
            written = frame.withUnsafeBytes { bytes in pier_write(tap.descriptor, bytes.baseAddress, bytes.count) }
        }
        if written >= 0 {
            tap.counters.sent += 1
            if tap.linkDown {
                tap.linkDown = false
                linkChanges.append(port)
            }
            capture(frame, port: index)
        } else if written == -Int(EAGAIN) {
            tap.counters.sendBlocked += 1
        } else if written == -Int(EIO) {
            // tun refuses writes to a device that is not up (`ip link set eth0 down`): the
            // link is down, the device is fine. Reopening it would not help.
            tap.counters.sendWhileDown += 1
            if !tap.linkDown {
                tap.linkDown = true
                linkChanges.append(port)
            }
        } else {
            tap.counters.errors += 1
            if written == -Int(EBADFD) || written == -Int(ENXIO) || written == -Int(ENODEV) {
                failedPorts.append(port)
            }
        }
    }

    /// Writes `frame` to port `index`'s capture, if it has one, stamped with the wall clock.
    mutating func capture(_ frame: borrowing Frame, port index: Int) {
        guard captureFailure == nil, index < captures.count, let writer = captures[index] else { return }
        let stamp = Timestamp(nanoseconds: frame.timestamp.nanoseconds + wallClockOffset)
        do { try writer.write(frame, at: stamp) } catch { captureFailure = error }
    }
}
