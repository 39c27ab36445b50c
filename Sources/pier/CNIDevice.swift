import CTap
import Foundation
import PacketIO

#if canImport(Glibc)
import Glibc
#endif

/// The container's interface that the CNI plugin makes: a persistent TAP device inside the
/// container's network namespace (`CNI_NETNS`, any path: `/run/netns/NAME`,
/// `/proc/PID/ns/net`), configured by one `ip -batch` run in there, which the switch then
/// opens as a port (`netns:` and `tap:`).
///
/// The thread enters the namespace for each step (`pier_netns_enter`) and comes back; the
/// `ip` it starts meanwhile starts in the namespace too, so no namespace needs a name.
struct CNIDevice {
    /// The namespace's path.
    let netns: String
    /// The interface's name in there (`CNI_IFNAME`).
    let name: String

    /// Runs `body` with the calling thread inside the namespace.
    private func inside<T>(_ body: () throws(CNIError) -> T) throws(CNIError) -> T {
        let home = pier_netns_enter(netns)
        guard home >= 0 else {
            throw CNIError(code: CNIError.device, message: "cannot enter the network namespace \(netns): \(systemMessage(-home))")
        }
        defer { _ = pier_netns_return(home) }
        return try body()
    }

    /// Runs `ip arguments…` in the namespace; its output, or an error saying what failed.
    private func ip(_ arguments: [String]) throws(CNIError) -> String {
        let outcome = try inside { () throws(CNIError) -> IPCommand.Outcome in IPCommand.run(arguments) }
        guard outcome.status == 0 else {
            let reason = outcome.status < 0 ? "cannot run ip (\(systemMessage(-outcome.status))): install iproute2" : outcome.output
            throw CNIError(code: CNIError.device, message: "\(name) in \(netns): ip \(arguments.prefix(3).joined(separator: " ")) failed",
                           details: reason.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        return outcome.output
    }

    /// True when an interface of that name is in the namespace.
    func exists() throws(CNIError) -> Bool {
        try inside { () throws(CNIError) -> Bool in if_nametoindex(name) != 0 }
    }

    /// Makes the device (an error when one of that name exists) and gives it `mac`, `mtu`, the
    /// IPAM result's addresses (`10.22.0.5/24`) and routes, and sets it up.
    func create(mac: String?, mtu: Int?, addresses: [String], routes: [(destination: String, gateway: String?)]) throws(CNIError) {
        let made = try inside { () throws(CNIError) -> Int32 in pier_tap_create_persistent(name) }
        guard made == 0 else {
            let problem = made == -EEXIST ? "an interface \(name) already exists in \(netns)" : "cannot make TAP device \(name) in \(netns): \(systemMessage(-made))"
            throw CNIError(code: CNIError.device, message: problem)
        }
        var lines: [String] = []
        if let mac { lines.append("link set dev \(name) address \(mac)") }
        if let mtu { lines.append("link set dev \(name) mtu \(mtu)") }
        for address in addresses { lines.append("address add \(address) dev \(name)" + (address.contains(":") ? " nodad" : "")) }
        lines.append("link set dev \(name) up")
        for route in routes {
            lines.append("route add \(route.destination)" + (route.gateway.map { " via \($0)" } ?? "") + " dev \(name)")
        }
        let batch = NSTemporaryDirectory() + "pier-cni-\(getpid()).ip"
        do { try (lines.joined(separator: "\n") + "\n").write(toFile: batch, atomically: false, encoding: .utf8) } catch {
            throw CNIError(code: CNIError.device, message: "cannot write \(batch): \(error)")
        }
        defer { unlink(batch) }
        _ = try ip(["-batch", batch])
    }

    /// The interface's MAC address, as the kernel reports it.
    func mac() throws(CNIError) -> String {
        let text = try ip(["-o", "link", "show", "dev", name])
        guard let range = text.range(of: "link/ether ") else { return "" }
        return String(text[range.upperBound...].prefix(17))
    }

    /// The interface's addresses with their prefix lengths (`10.22.0.5/24`).
    func addresses() throws(CNIError) -> [String] {
        let text = try ip(["-o", "address", "show", "dev", name])
        return text.split(separator: "\n").compactMap { line in
            let words = line.split(separator: " ")
            guard let index = words.firstIndex(where: { $0 == "inet" || $0 == "inet6" }), index + 1 < words.count else { return nil }
            return String(words[index + 1])
        }
    }

    /// Deletes the device if it is there; true when it was. A namespace that is gone leaves
    /// nothing to delete.
    @discardableResult
    func remove() -> Bool {
        guard pier_inode(netns) != 0, (try? exists()) == true else { return false }
        return (try? ip(["link", "delete", "dev", name])) != nil
    }

    /// The MAC for an interface whose first IPv4 address is `address`: 0a:58 then the
    /// address, as Kubernetes' own plugins do, so a container made again keeps its MAC and its
    /// neighbours' ARP entries stay right.
    static func mac(for address: String) -> String? {
        let octets = address.split(separator: "/").first.map { $0.split(separator: ".").compactMap { UInt8($0) } } ?? []
        guard octets.count == 4 else { return nil }
        return (["0a", "58"] + octets.map { String(format: "%02x", $0) }).joined(separator: ":")
    }
}

/// A delegated plugin (the IPAM plugin named by `ipam.type`), run as the specification says: found
/// in `CNI_PATH`, given the whole network configuration on stdin and the plugin's own
/// environment with `CNI_COMMAND` set.
struct CNIDelegate {
    /// The plugin's name.
    let type: String
    /// Where it is looked up.
    let searchPath: [String]

    /// Runs it for `command`; its result (nil when it printed nothing, as DEL does), or its own
    /// error passed on.
    func run(_ command: String, config: Data) throws(CNIError) -> [String: Any]? {
        guard let executable = searchPath.map({ $0 + "/" + type }).first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
            throw CNIError(code: CNIError.invalidConfig, message: "ipam.type: no plugin \(type) in CNI_PATH (\(searchPath.joined(separator: ":")))",
                           details: "Debian's standard plugins (containernetworking-plugins) are in /usr/lib/cni")
        }
        var environment = ProcessInfo.processInfo.environment
        environment["CNI_COMMAND"] = command
        let (status, printed) = Self.spawn(executable, environment: environment, input: config)
        guard status >= 0 else {
            throw CNIError(code: CNIError.invalidConfig, message: "ipam: cannot run \(executable): \(systemMessage(-status))")
        }
        let object = (try? JSONSerialization.jsonObject(with: printed)) as? [String: Any]
        guard status == 0 else {
            throw CNIError(code: object?["code"] as? Int ?? CNIError.invalidConfig,
                           message: "ipam \(type) \(command): " + (object?["msg"] as? String ?? "exit \(status)"),
                           details: object?["details"] as? String ?? "")
        }
        return object
    }

    /// Runs `executable` with `environment` and `input` on stdin; its exit status (or -errno)
    /// and what it printed on stdout (at most 1 MB).
    private static func spawn(_ executable: String, environment: [String: String], input: Data) -> (Int32, Data) {
        let argv: [UnsafeMutablePointer<CChar>?] = [strdup(executable), nil]
        let envp: [UnsafeMutablePointer<CChar>?] = environment.map { strdup("\($0.key)=\($0.value)") } + [nil]
        defer { for pointer in argv + envp { free(pointer) } }
        var output = [UInt8](repeating: 0, count: 1 << 20)
        var count = 0
        let status = input.withUnsafeBytes { bytes in
            output.withUnsafeMutableBytes { buffer in
                pier_run_with_input(executable, argv, envp, bytes.baseAddress, bytes.count,
                                    buffer.baseAddress, buffer.count, &count)
            }
        }
        return (status, Data(output.prefix(count)))
    }
}
