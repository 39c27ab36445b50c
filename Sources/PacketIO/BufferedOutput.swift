#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#endif

/// A capture file being written: a 1 MiB buffer that leaves in one `write(2)` each time it
/// fills, for the classic and the pcapng writer alike.
///
/// An existing regular file that this process may write is unlinked and created anew with
/// its mode (and, as root, its owner) rather than truncated, as GNU ld treats its output:
/// ext4 frees a truncated file's blocks inside `open(2)` and flushes the rewritten file at
/// `close(2)` (`auto_da_alloc`), which cost a 1-million-frame replay 50 ms of its 180
/// whenever the output already existed. It also keeps a capture that is being read intact
/// when the same path is the output. The new file is made exclusively (`O_EXCL`,
/// `O_NOFOLLOW`): anything planted at the path in between is an error, never followed.
/// Other hard links keep the old contents; ACLs and extended attributes are not copied. A
/// file this process may not write, a symbolic link, a FIFO or a device is opened as it
/// is (and a read-only file fails as it always did).
struct BufferedOutput {
    /// The buffer's size; a record always fits after a flush (the snap length is at most
    /// 256 KiB).
    static let bufferSize = 1 << 20

    /// The file's path, as given.
    let path: String
    /// The buffer; bytes `0..<used` wait to be written.
    let buffer: UnsafeMutableRawPointer
    var used = 0
    /// The first write error, returned by every later flush.
    private(set) var failure: CaptureError?
    private var descriptor: Int32

    /// Creates the file at `path`.
    init(path: String) throws(CaptureError) {
        let descriptor = Self.create(path)
        guard descriptor >= 0 else { throw CaptureError(file: path, problem: systemMessage(errno)) }
        self.path = path
        self.descriptor = descriptor
        buffer = .allocate(byteCount: Self.bufferSize, alignment: 16)
    }

    /// False once closed.
    var isOpen: Bool { descriptor >= 0 }

    /// Where the next `count` bytes go (flushing first when they do not fit); the caller
    /// writes them there and adds `count` to `used`.
    @inline(__always)
    mutating func reserve(_ count: Int) throws(CaptureError) -> UnsafeMutableRawPointer {
        if used + count > Self.bufferSize {
            if let error = flush() { throw error }
        }
        return buffer + used
    }

    /// Opens `path` for writing from its start: a writable regular file is replaced by a new
    /// one with its mode and owner, anything else opened (and created) as usual. -1 and errno
    /// on failure.
    private static func create(_ path: String) -> Int32 {
        var status = stat()
        guard lstat(path, &status) == 0, status.st_mode & S_IFMT == S_IFREG, access(path, W_OK) == 0,
              unlink(path) == 0 else {
            return open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        }
        let descriptor = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { return -1 }
        if getuid() == 0 { _ = fchown(descriptor, status.st_uid, status.st_gid) }
        _ = fchmod(descriptor, status.st_mode & 0o7777)
        return descriptor
    }

    /// Writes the buffered bytes out; returns (and remembers) the error if the write fails.
    mutating func flush() -> CaptureError? {
        if let failure { return failure }
        var offset = 0
        while offset < used {
            let written = Glibc.write(descriptor, buffer + offset, used - offset)
            if written < 0 {
                if errno == EINTR { continue }
                let error = CaptureError(file: path, problem: "write failed: \(systemMessage(errno))")
                failure = error
                return error
            }
            offset += written
        }
        used = 0
        return nil
    }

    /// Flushes and closes the file; throws if any write failed. Calling it again does nothing.
    mutating func close() throws(CaptureError) {
        guard descriptor >= 0 else { return }
        let error = flush()
        let closed = Glibc.close(descriptor) == 0
        let closeProblem = closed ? "" : "close failed: \(systemMessage(errno))"
        descriptor = -1
        if let error { throw error }
        if !closed { throw CaptureError(file: path, problem: closeProblem) }
    }

    /// Closes a file left open (dropping any error) and frees the buffer: the writer's deinit.
    mutating func closeDroppingErrors() {
        if descriptor >= 0 {
            _ = flush()
            Glibc.close(descriptor)
            descriptor = -1
        }
        buffer.deallocate()
    }
}
