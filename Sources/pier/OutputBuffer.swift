#if canImport(Glibc)
import Glibc
#endif

/// Buffered writing to standard output: lines gather in memory and go out in 64 KiB writes,
/// so `inspect` of a large capture is not bound by one system call per line.
struct OutputBuffer: ~Copyable {
    private var pending = ""
    private let threshold = 1 << 16

    /// Appends `line` and a newline, writing out when enough has gathered.
    mutating func writeLine(_ line: String) {
        pending += line
        pending += "\n"
        if pending.utf8.count >= threshold { flush() }
    }

    /// Writes out whatever has gathered.
    mutating func flush() {
        guard !pending.isEmpty else { return }
        writeAll(pending, to: STDOUT_FILENO)
        pending = ""
    }

    deinit { if !pending.isEmpty { writeAll(pending, to: STDOUT_FILENO) } }
}

/// Writes all of `text` to the file descriptor, retrying short writes.
func writeAll(_ text: String, to descriptor: Int32) {
    var text = text
    text.withUTF8 { buffer in
        guard let base = buffer.baseAddress else { return }
        var offset = 0
        while offset < buffer.count {
            let written = write(descriptor, base + offset, buffer.count - offset)
            if written <= 0 {
                if written < 0 && errno == EINTR { continue }
                return
            }
            offset += written
        }
    }
}

/// Writes `line` and a newline to standard error.
func standardError(_ line: String) {
    writeAll(line + "\n", to: STDERR_FILENO)
}

/// Writes `line` and a newline to standard output, unbuffered.
func standardOutput(_ line: String) {
    writeAll(line + "\n", to: STDOUT_FILENO)
}

/// Writes `text` to standard output as it is, unbuffered.
func standardOutputRaw(_ text: String) {
    writeAll(text, to: STDOUT_FILENO)
}
