/// A problem with a capture file, a record in it, or a capture filter: what `pier` prints as
/// its one line on stderr (DESIGN.md, "Command-line contract").
///
/// `description` is `FILE: record N: PROBLEM` for a damaged classic record,
/// `FILE: block N at offset X: PROBLEM` for a damaged pcapng block, and `FILE: PROBLEM` for a
/// problem with the file as a whole, always on one line.
public struct CaptureError: Error, Equatable, Sendable, CustomStringConvertible {
    /// The capture file's path as the caller gave it; for a filter, `filter "EXPRESSION"`.
    public var file: String
    /// The 1-based number of the record at fault, or nil when the problem is the file's.
    public var record: Int?
    /// The 1-based number of the pcapng block at fault (counting every block of the file),
    /// or nil.
    public var block: Int?
    /// The file offset of that block.
    public var offset: Int?
    /// What is wrong, in a few words (`record cut off: 40 of 80 captured bytes present`).
    public var problem: String

    /// Makes an error about `file`, and about its record number `record` when given.
    public init(file: String, record: Int? = nil, problem: String) {
        self.file = file
        self.record = record
        self.problem = problem
    }

    /// Makes an error about the pcapng block number `block` at `offset` of `file`.
    public init(file: String, block: Int, offset: Int, problem: String) {
        self.init(file: file, problem: problem)
        self.block = block
        self.offset = offset
    }

    /// `FILE: record N: PROBLEM`, `FILE: block N at offset X: PROBLEM` or `FILE: PROBLEM`,
    /// with any line break replaced by a space.
    public var description: String {
        let line = if let block {
            "\(file): block \(block) at offset \(offset ?? 0): \(problem)"
        } else if let record { "\(file): record \(record): \(problem)" } else { "\(file): \(problem)" }
        return String(line.map { $0.isNewline ? " " : $0 })
    }
}
