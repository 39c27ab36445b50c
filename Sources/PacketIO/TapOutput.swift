#if canImport(Glibc)
import Glibc
#endif
import CTap
import Dataplane

/// Where the live switch's pipeline sends frames for TAP ports: each port's TAP device, and
/// its capture file if it has one. A write that would block drops the frame and counts it
/// (the other ports never wait for a slow one); a port that is down, or whose device is down
/// (EIO), counts the frame too; a device that is gone (EBADFD, ENXIO, ENODEV) fails the port.
public struct TapOutput: LiveOutput {
    /// The TAP port of each pipeline port, nil for a port without a device.
    var ports: [TapPort?] = []
    /// The capture files.
    public var captures: LiveCaptures
    /// Ports that failed or whose link changed during the batch.
    public var events = LiveOutputEvents()

    /// An output to no port yet, capturing to `captures`.
    public init(captures: LiveCaptures) {
        self.captures = captures
    }

    /// Sends what leaves `tap.port` to `tap`.
    public mutating func attach(_ tap: TapPort) {
        let index = Int(tap.port.rawValue)
        if index >= ports.count { ports += [TapPort?](repeating: nil, count: index + 1 - ports.count) }
        ports[index] = tap
    }

    /// Drops what leaves `port`, silently.
    public mutating func detach(_ port: PortID) {
        let index = Int(port.rawValue)
        if index < ports.count { ports[index] = nil }
    }

    /// Writes `frame` to `port`'s device (after its virtio-net header with offloads).
    public mutating func send(_ frame: borrowing Frame, to port: PortID) {
        let index = Int(port.rawValue)
        guard index < ports.count, let tap = ports[index] else { return }
        guard tap.isUp else {
            tap.counters.sendWhileDown += 1
            return
        }
        let written: Int
        if tap.offloads {
            guard let result = Self.writeWithHeader(frame, to: tap) else {
                tap.counters.offloadRefused += 1
                return
            }
            written = result
        } else {
            written = frame.withUnsafeBytes { bytes in pier_write(tap.descriptor, bytes.baseAddress, bytes.count) }
        }
        if written >= 0 {
            tap.counters.sent += 1
            if tap.linkDown {
                tap.linkDown = false
                events.linkChanges.append(port)
            }
            captures.capture(frame, port: index)
        } else if written == -Int(EAGAIN) {
            tap.counters.sendBlocked += 1
        } else if written == -Int(EIO) {
            // tun refuses writes to a device that is not up (`ip link set eth0 down`): the
            // link is down, the device is fine. Reopening it would not help.
            tap.counters.sendWhileDown += 1
            if !tap.linkDown {
                tap.linkDown = true
                events.linkChanges.append(port)
            }
        } else {
            tap.counters.errors += 1
            if written == -Int(EBADFD) || written == -Int(ENXIO) || written == -Int(ENODEV) {
                events.failedPorts.append(port)
            }
        }
    }

    /// Writes `frame` to `tap` behind its virtio-net header (made on the stack: no
    /// allocation); the bytes written or -errno, nil when the offload cannot be passed on.
    private static func writeWithHeader(_ frame: borrowing Frame, to tap: TapPort) -> Int? {
        var room: (UInt64, UInt64) = (0, 0)
        return withUnsafeMutableBytes(of: &room) { header in
            guard VirtioNetHeader.write(frame.offload, frameLength: frame.count, to: header.baseAddress!) else { return nil }
            return frame.withUnsafeBytes { bytes in
                pier_write_two(tap.descriptor, header.baseAddress, VirtioNetHeader.size, bytes.baseAddress, bytes.count)
            }
        }
    }
}
