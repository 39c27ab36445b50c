import CUring
import Dataplane

#if canImport(Glibc)
import Glibc
#endif

/// How the live switch moves frames between its TAP devices and the pipeline
/// (`pier switch --io`).
public enum LiveIOMode: String, Sendable, CaseIterable {
    /// One `read(2)` a frame (and one more that finds the device empty), one `write(2)` a frame.
    case epoll
    /// The reads of a ready device in one `io_uring_enter`, the writes of a pipeline batch in
    /// another (ports without offloads; ports with them, captured ports' writes and GRO's
    /// super-frames, as epoll).
    case uring
}

/// The io_uring the live switch batches its reads and writes through (`--io uring`), with
/// the buffers those land in, all made once: a read copies each frame from its slot into a
/// pool frame, a queued write copies its frame into a slot, so the pool's frames never wait
/// on the kernel. Reads and writes complete inline on non-blocking devices (a full queue
/// answers EAGAIN at once), so a slow port never stalls the loop; requests on one device run
/// in the order they were queued, so order within a flow holds.
public final class TapRing {
    /// Reads posted, or writes queued, at once at most: a batch.
    static let slots = Batch.capacity
    /// The bytes one slot holds: a pool frame's room after its headroom.
    let slotSize = Frame.defaultCapacity - Frame.headroom
    private let ring: OpaquePointer
    private let readArena: UnsafeMutableRawPointer
    private let writeArena: UnsafeMutableRawPointer
    private let readAddresses: UnsafeMutablePointer<UnsafeMutableRawPointer?>
    /// Each slot's outcome after a read batch or a flush: bytes moved, or -errno.
    let results: UnsafeMutablePointer<Int>
    /// The pipeline port each queued write goes to.
    private let writePorts: UnsafeMutablePointer<UInt16>
    /// Writes queued since the last flush.
    private(set) var queued = 0

    /// Makes the ring; nil with `refusal` set to the errno when the kernel refuses one.
    init?(refusal: inout Int32) {
        var error: Int32 = 0
        guard let ring = pier_uring_open(UInt32(Self.slots * 2), &error) else {
            refusal = -error
            return nil
        }
        self.ring = ring
        readArena = .allocate(byteCount: Self.slots * slotSize, alignment: 64)
        writeArena = .allocate(byteCount: Self.slots * slotSize, alignment: 64)
        readAddresses = .allocate(capacity: Self.slots)
        for slot in 0..<Self.slots { readAddresses[slot] = readArena + slot * slotSize }
        results = .allocate(capacity: Self.slots)
        results.initialize(repeating: 0, count: Self.slots)
        writePorts = .allocate(capacity: Self.slots)
        writePorts.initialize(repeating: 0, count: Self.slots)
    }

    deinit {
        pier_uring_close(ring)
        readArena.deallocate()
        writeArena.deallocate()
        readAddresses.deallocate()
        results.deallocate()
        writePorts.deallocate()
    }

    /// Posts `count` reads of `descriptor` into the read slots in one system call; each
    /// slot's outcome is then in `results`. 0 or -errno.
    func read(_ descriptor: Int32, count: Int) -> Int32 {
        pier_uring_read_batch(ring, descriptor, readAddresses, slotSize, UInt32(count), results)
    }

    /// The bytes read into `slot`.
    func readSlot(_ slot: Int) -> UnsafeMutableRawPointer { readArena + slot * slotSize }

    /// True when no more writes can be queued before a flush.
    var isFull: Bool { queued == Self.slots }

    /// Queues `bytes` (with `header` bytes of zero in front, a virtio-net header asking
    /// nothing: at most `slotSize` in all) to `descriptor`, the device of pipeline port `port`.
    func queueWrite(_ bytes: UnsafeRawBufferPointer, header: Int = 0, to descriptor: Int32, port: UInt16) {
        let slot = queued
        let target = writeArena + slot * slotSize
        if header > 0 { target.initializeMemory(as: UInt8.self, repeating: 0, count: header) }
        (target + header).copyMemory(from: bytes.baseAddress!, byteCount: bytes.count)
        writePorts[slot] = port
        let status = pier_uring_queue_write(ring, descriptor, target, header + bytes.count, UInt32(slot))
        precondition(status == 0, "the ring has room for a batch of writes")
        queued += 1
    }

    /// Submits the queued writes in one system call and hands each one's pipeline port and
    /// outcome (bytes written or -errno) to `account`, in the order they were queued.
    func flush(_ account: (UInt16, Int) -> Void) {
        guard queued > 0 else { return }
        let status = pier_uring_flush_writes(ring, UInt32(queued), results)
        for slot in 0..<queued { account(writePorts[slot], status < 0 ? Int(status) : results[slot]) }
        queued = 0
    }
}
