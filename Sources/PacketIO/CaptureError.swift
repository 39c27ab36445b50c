/// A problem with a capture file, a record in it, or a capture filter: what `pier` prints as
/// its one line on stderr (DESIGN.md, "Command-line contract").
///
/// `description` is `FILE: record N: PROBLEM` for a damaged classic record,
/// `FILE: block N at offset X: PROBLEM` for a damaged pcapng block, and `FILE: PROBLEM` for a
/// problem with the file as a whole, always on one line. (A pcapng block's place is part of
/// `problem`: two more stored fields made the error too big to copy inline, and every
/// writer's per-frame error check went through generic value witnesses, 190 instructions a
/// frame of a configured replay.)
public struct CaptureError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The capture file's path as the caller gave it; for a filter, `filter "EXPRESSION"`.
    public var file: String
    /// The 1-based number of the record at fault, or nil when the problem is the file's (or
    /// a pcapng block's, named in `problem`).
    public var record: Int?
    /// What is wrong, in a few words (`record cut off: 40 of 80 captured bytes present`;
    /// for pcapng `block 6 at offset 1220: block cut off: 276 of 376 bytes present`).
    public var problem: String

    /// Makes an error about `file`, and about its record number `record` when given.
    public init(file: String, record: Int? = nil, problem: String) {
        self.file = file
        self.record = record
        self.problem = problem
    }

    /// Makes an error about the pcapng block number `block` (counting every block from the
    /// first section header, 1-based) at file offset `offset`.
    public init(file: String, block: Int, offset: Int, problem: String) {
        self.init(file: file, problem: "block \(block) at offset \(offset): \(problem)")
    }

    /// `FILE: record N: PROBLEM` or `FILE: PROBLEM`, with any line break replaced by a space.
    public var description: String {
        let line = if let record { "\(file): record \(record): \(problem)" } else { "\(file): \(problem)" }
        return String(line.map { $0.isNewline ? " " : $0 })
    }
}
