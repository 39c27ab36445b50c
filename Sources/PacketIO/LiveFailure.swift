/// A failure that stops the live switch: a descriptor it could not make, a control socket
/// already in use, a capture it could not write.
public struct LiveFailure: Error, CustomStringConvertible {
    /// What went wrong.
    public var description: String

    /// Fails with `description`.
    public init(description: String) {
        self.description = description
    }

    /// `result` when it is a descriptor (0 or more), else a failure naming `what` and the
    /// errno that `-result` is.
    static func check(_ result: Int32, _ what: String) throws(LiveFailure) -> Int32 {
        guard result >= 0 else { throw LiveFailure(description: "\(what): \(systemMessage(-result))") }
        return result
    }
}
