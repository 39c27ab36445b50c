#if canImport(Glibc)
import Glibc
#endif
import CTap
import Dataplane

/// One port of the live switch and the TAP device behind it: where the device lives, its
/// descriptor while it is open, and what went through it.
///
/// A device is found either in the switch's own network namespace by its `tap:` name, or
/// inside a container's namespace (bound at `/var/run/netns/NAME` by `pier up`) as `eth0`. To
/// attach to the latter the thread enters the namespace, opens the device and comes back
/// (TUNSETIFF finds a device by name in the namespace the descriptor was opened in). The
/// descriptor keeps that namespace alive, so a deleted namespace is noticed by its name no
/// longer leading to it (`namespaceIsGone`), not by the device vanishing.
///
/// As a `LivePort` (`TapPort+LivePort.swift`) it is served by `LiveSwitch<TapPort>`, its
/// frames written by `TapOutput`.
public final class TapPort {
    /// Where the TAP device is.
    public enum Location: Sendable, Equatable, CustomStringConvertible {
        /// In the switch's own namespace, by its name (created if missing the first time).
        case local(device: String)
        /// Inside the namespace bound at `/var/run/netns/NAMESPACE`, by its name there.
        case namespace(String, device: String)
        /// Inside the namespace at `path` (`/run/netns/NAME`, `/proc/PID/ns/net`: a topology
        /// port's `netns:`), by its name there.
        case namespacePath(String, device: String)

        /// `pier-eth0`, `eth0 in namespace c1`, or `eth0 in /run/netns/c4`.
        public var description: String {
            switch self {
            case .local(let device): device
            case .namespace(let name, let device): "\(device) in namespace \(name)"
            case .namespacePath(let path, let device): "\(device) in \(path)"
            }
        }

        /// The namespace's path, for a device in another namespace.
        var namespaceFile: String? {
            switch self {
            case .local: nil
            case .namespace(let name, _): TapPort.namespacePath(name)
            case .namespacePath(let path, _): path
            }
        }
    }

    /// What went through the port, beside the pipeline's own counters.
    public typealias Counters = LivePortCounters

    /// The port in the pipeline.
    public let port: PortID
    /// The port's name in the topology.
    public let name: String
    /// Where its device is.
    public let location: Location
    /// The open descriptor, or -1 while the port is down.
    public private(set) var descriptor: Int32 = -1
    /// What went through it.
    public var counters = Counters()
    /// True while the device is there but administratively down (`ip link set eth0 down` in
    /// the container): the kernel refuses writes with EIO. The port stays open; its frames
    /// count as `sendWhileDown` until a write or a read succeeds again.
    public internal(set) var linkDown = false
    /// Frames carry a virtio-net header and the device passes TSO segments (`IFF_VNET_HDR`).
    public let offloads: Bool
    /// Writes may join consecutive TCP segments into one super-frame (`SegmentCoalescer`, GRO):
    /// the device has a virtio-net header even without `offloads`, but offers the kernel nothing.
    public let coalesces: Bool
    /// Frames carry a virtio-net header both ways: with `offloads`, or for `coalesces`.
    public var hasHeader: Bool { offloads || coalesces }
    /// With `offloads`: whether the device passes TSO segments too, or only partial checksums.
    public let segmentation: Bool
    /// With `offloads`: whether to ask the device for UDP-tunnel GSO (an overlay's uplink).
    public let wantsTunnelSegmentation: Bool
    /// True while the device carries UDP-tunnel super-frames both ways (the kernel took
    /// `TUN_F_UDP_TUNNEL_GSO` at the last open); its frames then have the 24-byte header.
    public private(set) var tunnelSegmentation = false
    /// Why the device refused UDP-tunnel GSO at the last open (an errno), 0 if it did not.
    public private(set) var tunnelSegmentationRefusal: Int32 = 0
    /// The virtio-net header's size in front of each frame: 10, or 24 with tunnel GSO.
    public var headerSize: Int { tunnelSegmentation ? VirtioNetHeader.tunnelSize : VirtioNetHeader.size }
    /// The switch's io_uring with `--io uring` (reads batched for a port without offloads).
    var ring: TapRing?
    /// How many reads to post at the next readiness: twice the last batch when it filled
    /// them all, one more than it found otherwise.
    var readAhead = 4
    private var namespaceInode: UInt64 = 0
    private var openedBefore = false

    /// Makes a port whose device is at `location`; nothing is opened yet.
    /// With `offloads` and not `segmentation`, the device passes partial checksums but no TSO
    /// segments (for a switch whose frames may be encapsulated, which Pier cannot segment).
    /// With `tunnelSegmentation` (and `offloads`), the device is asked for UDP-tunnel GSO at
    /// every open, and runs without it when the kernel refuses.
    /// With `coalesces`, writes to the device may join TCP segments (GRO).
    public init(port: PortID, name: String, location: Location, offloads: Bool = false, segmentation: Bool = true,
                tunnelSegmentation: Bool = false, coalesces: Bool = false) {
        self.port = port
        self.name = name
        self.location = location
        self.offloads = offloads
        self.coalesces = coalesces
        self.segmentation = segmentation
        wantsTunnelSegmentation = offloads && segmentation && tunnelSegmentation
    }

    /// What the port's device carries, for the switch's log: `offloads: none`,
    /// `checksums`, `checksums, TSO`, or `checksums, TSO, UDP-tunnel GSO`.
    public var offloadDescription: String {
        guard offloads else { return "none" }
        guard segmentation else { return "checksums" }
        if tunnelSegmentation { return "checksums, TSO, UDP-tunnel GSO (24-byte header)" }
        if wantsTunnelSegmentation {
            return "checksums, TSO; UDP-tunnel GSO refused (\(systemMessage(tunnelSegmentationRefusal))): tunnel super-frames segmented by Pier"
        }
        return "checksums, TSO"
    }

    /// The `vnet_header` argument of `pier_tap_open`: 0 none, 1 checksums and TSO, 2 checksums,
    /// 3 a header that offers nothing (GRO without offloads).
    private var offloadMode: Int32 { offloads ? (segmentation ? 1 : 2) : (coalesces ? 3 : 0) }

    /// True while the device is open.
    public var isUp: Bool { descriptor >= 0 }

    /// Opens the device; returns 0 or the errno that kept it closed. A local device is made
    /// on the first open (as any TAP program does) and set up; afterwards, and always inside a
    /// namespace, only an existing device is attached (TUNSETIFF would otherwise make one).
    public func open() -> Int32 {
        guard descriptor < 0 else { return 0 }
        let result: Int32
        switch location {
        case .local(let device):
            result = pier_tap_open(device, openedBefore ? 0 : 1, offloadMode)
            if result >= 0 { _ = pier_link_up(device) }
        case .namespace(_, let device), .namespacePath(_, let device):
            var inode: UInt64 = 0
            result = pier_tap_open_in(location.namespaceFile ?? "", device, 0, offloadMode, &inode)
            if result >= 0 { namespaceInode = inode }
        }
        guard result >= 0 else { return -result }
        if wantsTunnelSegmentation {
            let refusal = pier_tap_enable_udp_tunnel_gso(result)
            tunnelSegmentation = refusal == 0
            tunnelSegmentationRefusal = -refusal
        }
        descriptor = result
        openedBefore = true
        return 0
    }

    /// Closes the device (the port is down until `open()` succeeds again).
    public func close() {
        guard descriptor >= 0 else { return }
        _ = Glibc.close(descriptor)
        descriptor = -1
        linkDown = false
    }

    /// True when the port's namespace was deleted, or its name now leads to another one.
    public var namespaceIsGone: Bool {
        guard let file = location.namespaceFile, isUp else { return false }
        return pier_inode(file) != namespaceInode
    }

    /// Where `ip netns` binds the namespace `name`.
    public static func namespacePath(_ name: String) -> String { "/var/run/netns/" + name }
}
