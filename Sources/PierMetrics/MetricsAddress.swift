/// The value of `--metrics`: `ADDRESS:PORT`, the address an IPv4 address, a host name or an IPv6
/// address in brackets (`127.0.0.1:9100`, `localhost:9100`, `[::1]:9100`); `:PORT` alone is
/// every IPv4 address. Port 0 lets the system choose (the start line says which).
public struct MetricsAddress: Sendable, Equatable {
    /// A value that is not `ADDRESS:PORT`.
    public struct Invalid: Error, CustomStringConvertible {
        /// One line for the user.
        public var description: String
    }

    /// The address to listen on.
    public var host: String
    /// The port to listen on.
    public var port: Int

    /// Makes an address from its parts.
    public init(host: String, port: Int) {
        self.host = host
        self.port = port
    }

    /// Parses `text`.
    public init(parsing text: String) throws(Invalid) {
        guard let colon = text.lastIndex(of: ":"),
              let port = Int(text[text.index(after: colon)...]), (0...65_535).contains(port)
        else { throw Invalid(description: "--metrics \(text): expected ADDRESS:PORT with a port from 0 to 65535 (e.g. 127.0.0.1:9100)") }
        var host = String(text[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") && host.count > 2 {
            host = String(host.dropFirst().dropLast())
        } else if host.contains(":") || host.contains("[") || host.contains("]") {
            throw Invalid(description: "--metrics \(text): an IPv6 address goes in brackets ([::1]:9100)")
        }
        guard !host.contains(where: { $0.isWhitespace || $0 == "/" }) else {
            throw Invalid(description: "--metrics \(text): \(host) is not an address or host name")
        }
        self.host = host.isEmpty ? "0.0.0.0" : host
        self.port = port
    }
}
