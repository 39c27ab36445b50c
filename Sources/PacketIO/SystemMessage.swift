#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
import CPcap

/// The C library's text for `code` (an `errno` value), lower-cased to read inside a sentence:
/// `no such file or directory`. `ENOENT` reads `no such file`.
public func systemMessage(_ code: Int32) -> String {
    if code == ENOENT { return "no such file" }
    guard let text = strerror(code) else { return "error \(code)" }
    let message = String(cString: text)
    return message.prefix(1).lowercased() + message.dropFirst()
}

/// The text libpcap left in `buffer` (an error buffer of `PCAP_ERRBUF_SIZE` bytes).
func pcapMessage(_ buffer: [CChar]) -> String {
    let text = buffer.withUnsafeBufferPointer { $0.baseAddress.map { String(cString: $0) } ?? "" }
    return text.isEmpty ? "libpcap gave no reason" : text
}

/// The text of the last error on the libpcap handle `handle` (`pcap_geterr`).
func pcapMessage(_ handle: OpaquePointer) -> String {
    guard let text = pcap_geterr(handle) else { return "libpcap gave no reason" }
    let message = String(cString: text)
    return message.isEmpty ? "libpcap gave no reason" : message
}
