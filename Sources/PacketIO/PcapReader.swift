#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import CPcap
import Dataplane
import Wire

/// Reads the records of a capture file (classic pcap in either byte order and resolution, or
/// pcapng), one frame at a time, into a frame the caller reuses. A capture file on disk is
/// read from memory: classic pcap by `MappedRecords` (libpcap opens it, and the checks and
/// messages are libpcap's path's), pcapng by `PcapNGRecords` without libpcap (every interface
/// with its own link type and resolution; damage names the block). libpcap reads what cannot
/// be mapped (a pipe).
///
/// Timestamps always come out in nanoseconds (`Frame.timestamp`), whatever the file stores.
/// Every good record before damage is returned; the damaged one throws a `CaptureError` naming
/// its record number, and so does every later call. libpcap silently cuts a classic record
/// whose captured length exceeds the file's snap length; this reader notices (by the file
/// position) and throws instead. Per record it allocates nothing: libpcap reads into its own
/// buffer and the bytes are copied into the frame's.
public final class PcapReader {
    /// The file's path, as given.
    public let path: String
    /// The link-layer type of the records (for pcapng, of the first interface; each frame's
    /// is its interface's, `lastInterface`).
    public let linkType: LinkType
    /// The largest captured length a record may have, as libpcap sees it: the file's snap
    /// length, or 262,144 when the file says 0 or more than that.
    public let snapLength: Int
    /// The timestamp resolution the file stores. For pcapng, that of the first interface:
    /// microseconds unless its `if_tsresol` option is finer.
    public let precision: TimestampPrecision
    /// True for a pcapng file, false for classic pcap.
    public let isPcapNG: Bool
    /// The number of records returned so far.
    public private(set) var recordsRead = 0

    /// The largest captured length libpcap reads, and so the largest record this reader returns.
    public static let maximumCapturedLength = 262_144
    /// The stdio buffer size for capture files.
    static let bufferSize = 1 << 20

    /// libpcap's handle; nil for a mapped pcapng file.
    private let handle: OpaquePointer?
    private let file: UnsafeMutablePointer<FILE>
    private let header: CaptureFileHeader
    /// Classic pcap: the offset of the next record header in the file.
    private var recordOffset: Int
    private var state = State.reading
    /// A classic pcap file's records, mapped; nil when libpcap reads them.
    private var mapped: MappedRecords?
    /// A pcapng file's blocks, mapped, when `readsBlocks` (not optional: reading a packet
    /// through an optional copied the struct, two retains and releases a packet).
    private var blocks = PcapNGRecords(bytes: UnsafeRawBufferPointer(start: nil, count: 0))
    private let readsBlocks: Bool

    private enum State {
        case reading, finished
        case failed(CaptureError)
    }

    /// Opens the capture file at `path`; throws when it is missing, unreadable, not a capture
    /// file, or its header is damaged.
    public init(path: String) throws(CaptureError) {
        guard let file = fopen(path, "rb") else {
            throw CaptureError(file: path, problem: systemMessage(errno))
        }
        // A 1 MiB stdio buffer: a twentieth of the read(2) calls of the default 4 KiB.
        setvbuf(file, nil, _IOFBF, Self.bufferSize)
        let header: CaptureFileHeader
        do {
            header = try CaptureFileHeader(reading: file, path: path)
        } catch {
            fclose(file)
            throw error
        }
        self.path = path
        self.file = file
        self.header = header
        precision = header.precision
        isPcapNG = header.format == .pcapNG
        if isPcapNG, let bytes = MappedRecords.map(fileno(file)) {
            var blocks = PcapNGRecords(bytes: bytes)
            blocks.readToFirstPacket()
            handle = nil
            readsBlocks = true
            linkType = blocks.interfaces.first?.linkType ?? .ethernet
            snapLength = Self.maximumCapturedLength
            recordOffset = 0
            self.blocks = blocks
            return
        }
        var message = [CChar](repeating: 0, count: Int(PCAP_ERRBUF_SIZE))
        guard let handle = pcap_fopen_offline_with_tstamp_precision(file, UInt32(PCAP_TSTAMP_PRECISION_NANO), &message) else {
            fclose(file)  // libpcap closes the file only once it has opened it
            throw CaptureError(file: path, problem: pcapMessage(message))
        }
        self.handle = handle
        readsBlocks = false
        linkType = LinkType(dlt: pcap_datalink(handle))
        snapLength = Int(pcap_snapshot(handle))
        recordOffset = ftell(file)
        if !isPcapNG {
            mapped = MappedRecords(descriptor: fileno(file), isBigEndian: header.isBigEndian,
                                   nanoseconds: header.precision == .nanoseconds, snapLength: snapLength,
                                   firstRecord: recordOffset)
        }
    }

    deinit {
        mapped?.close()
        if readsBlocks { MappedRecords.unmap(blocks.bytes) }
        if let handle {
            pcap_close(handle)  // closes the file too
        } else {
            fclose(file)
        }
    }

    /// pcapng: every interface described so far (all of them once the file is read, or after
    /// `survey`); empty for classic pcap.
    public var interfaces: [CaptureInterface] { blocks.interfaces }

    /// pcapng: the interface of the frame last returned; nil for classic pcap.
    public var lastInterface: CaptureInterface? {
        guard readsBlocks, !blocks.interfaces.isEmpty else { return nil }
        return blocks.interfaces[blocks.lastInterface]
    }

    /// The direction flagged on the frame last returned (`unknown` for classic pcap).
    public var lastDirection: CaptureDirection { blocks.lastDirection }

    /// False when the frame last returned carried no timestamp of its own (a pcapng simple
    /// packet block, which keeps the one before).
    public var lastHadTimestamp: Bool { !readsBlocks || blocks.lastHadTimestamp }

    /// pcapng: return only the frames of the interface at this index in `interfaces`.
    public func readOnly(interface index: Int) { blocks.onlyInterface = index }

    /// pcapng: skip the frames flagged outbound (what the node sent), counting them in
    /// `outboundSkipped`; cut each interface's frame check sequence off whole frames.
    public func readAsInput() {
        blocks.skipsOutbound = true
        blocks.removesFCS = true
    }

    /// The frames skipped because they were flagged outbound.
    public var outboundSkipped: Int { blocks.outboundSkipped }

    /// pcapng: what the rest of the file holds without reading it as frames: the interfaces
    /// (with the number of frames of each) and whether any frame is flagged with a direction.
    /// The reader is at the end afterwards; damage is left for another reader to report.
    public func survey() -> (interfaces: [CaptureInterface], frames: [Int], anyDirection: Bool) {
        guard readsBlocks else { return ([], [], false) }
        let (frames, anyDirection) = blocks.survey()
        state = .finished
        return (blocks.interfaces, frames, anyDirection)
    }

    /// Reads the next record into `frame` (bytes, `timestamp`, `originalLength`); returns false
    /// at the end of the file. Throws, naming the record, when the record is damaged.
    public func next(into frame: inout Frame) throws(CaptureError) -> Bool {
        switch state {
        case .reading: break
        case .finished: return false
        case .failed(let error): throw error
        }
        switch readsBlocks ? blocks.next(into: &frame) : mapped?.next(into: &frame) {
        case .record:
            recordsRead += 1
            return true
        case .end:
            state = .finished
            return false
        case .damaged(let problem):
            throw failure(problem)
        case nil:
            break  // not mapped: libpcap reads it
        }
        guard let handle else { return false }
        var recordHeader: UnsafeMutablePointer<pcap_pkthdr>?
        var data: UnsafePointer<UInt8>?
        let result = pcap_next_ex(handle, &recordHeader, &data)
        guard result == 1, let recordHeader, let data else {
            if result == PCAP_ERROR_BREAK {
                state = .finished
                return false
            }
            throw failure(diagnoseFailure())
        }
        let captured = Int(recordHeader.pointee.caplen)
        if !isPcapNG {
            let end = ftell(file)
            let storedLength = end - recordOffset - CaptureFileHeader.pcapRecordHeaderSize
            recordOffset = end
            if storedLength != captured {
                throw failure("captured length \(storedLength) exceeds the snap length \(snapLength)")
            }
        }
        frame.replaceContents(with: UnsafeRawBufferPointer(start: data, count: captured))
        let time = recordHeader.pointee.ts
        frame.timestamp = Timestamp(seconds: Int64(time.tv_sec), nanoseconds: Int64(time.tv_usec))
        frame.originalLength = Int(recordHeader.pointee.len)
        recordsRead += 1
        return true
    }

    /// Reads records into `batch` (in its spare frames, or frames from `pool`), each marked
    /// as entering at `port`, until the batch is full or the file ends; returns false when
    /// nothing was added because the file had ended. When a record is damaged, the frames
    /// read before it stay in the batch and the next call throws (as `next` does). The batch
    /// must have room.
    public func fill(_ batch: inout Batch, pool: FramePool, port: PortID) throws(CaptureError) -> Bool {
        precondition(!batch.isFull, "fill needs room in the batch")
        let before = batch.count
        do {
            while !batch.isFull {
                let added = try batch.refill(from: pool) { frame throws(CaptureError) in
                    guard try next(into: &frame) else { return false }
                    frame.inputPort = port
                    return true
                }
                if !added { break }
            }
        } catch {
            if batch.count == before { throw error }
        }
        return batch.count > before
    }

    /// The error for the record after the last one returned (for pcapng, the block where
    /// reading stopped), remembered for later calls.
    private func failure(_ problem: String) -> CaptureError {
        let error = readsBlocks
            ? CaptureError(file: path, block: blocks.blocksRead + 1, offset: blocks.offset, problem: problem)
            : CaptureError(file: path, record: recordsRead + 1, problem: problem)
        state = .failed(error)
        return error
    }

    /// Why libpcap could not read the next record. For classic pcap the record header is read
    /// again here, so the message gives the lengths (libpcap's wording varies by version);
    /// otherwise libpcap's own message.
    private func diagnoseFailure() -> String {
        guard let handle else { return "" }
        let libpcapMessage = pcapMessage(handle)
        guard !isPcapNG else { return libpcapMessage }
        var status = stat()
        guard fstat(fileno(file), &status) == 0 else { return libpcapMessage }
        let present = Int(status.st_size) - recordOffset
        if let problem = CaptureFileHeader.headerProblem(present: present) { return problem }
        let headerSize = CaptureFileHeader.pcapRecordHeaderSize
        var bytes = [UInt8](repeating: 0, count: headerSize)
        let got = bytes.withUnsafeMutableBytes { pread(fileno(file), $0.baseAddress, headerSize, off_t(recordOffset)) }
        guard got == headerSize else { return libpcapMessage }
        let captured = Int(CaptureFileHeader.u32(bytes, at: CaptureFileHeader.RecordField.capturedLength, bigEndian: header.isBigEndian))
        return CaptureFileHeader.lengthProblem(present: present, captured: captured) ?? libpcapMessage
    }
}
