import Foundation
import Inspect

#if canImport(Glibc)
import Glibc
#endif

/// `pier` as the CNI plugin of type `pier` (CNI specification 1.0.0, with 1.1.0's STATUS and
/// GC): a runtime runs `/opt/cni/bin/pier` with no arguments, `CNI_COMMAND` and the other
/// variables in its environment and the network configuration on stdin. `Pier.main` hands
/// such a run here before parsing arguments, so the plugin is the same binary as the CLI and
/// talks to the switch with the same control client (`ControlSocket`).
///
/// ADD: the IPAM plugin's address (delegated, `ipam.type` in `CNI_PATH`), a persistent TAP
/// device `CNI_IFNAME` in `CNI_NETNS` with it (`CNIDevice`), then the port
/// `{name, tap, netns, bridge}` and the port mappings `runtimeConfig.portMappings` applied to
/// the switch of `node`, and a wait until the switch has the device open. DEL undoes each step,
/// best effort; CHECK compares the interface and the switch's port with `prevResult`.
/// The result (or the error object) goes to stdout; messages for people go to stderr.
enum CNIPlugin {
    /// How long ADD waits for the switch to open the device.
    static let attachSeconds = 5.0

    /// True when this run is a runtime's: `CNI_COMMAND` set and no arguments.
    static var isInvoked: Bool {
        ProcessInfo.processInfo.environment["CNI_COMMAND"] != nil && CommandLine.arguments.count == 1
    }

    /// Runs the command the environment names, prints its result or error and exits.
    static func main() -> Never {
        let input = FileHandle.standardInput.readDataToEndOfFile()
        var version = "1.0.0"
        do {
            let request = try CNIRequest(environment: ProcessInfo.processInfo.environment, stdin: input)
            version = request.version
            if let result = try run(request) { print(result) }
            exit(0)
        } catch {
            print(error.json(version: version))
            exit(1)
        }
    }

    /// Prints `object` as one JSON document on stdout.
    private static func print(_ object: [String: Any]) {
        let data = (try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys, .withoutEscapingSlashes])) ?? Data("{}".utf8)
        FileHandle.standardOutput.write(data + Data("\n".utf8))
    }

    /// Runs the request's command; its result object, if it has one.
    static func run(_ request: CNIRequest) throws(CNIError) -> [String: Any]? {
        switch request.command {
        case "VERSION":
            return ["cniVersion": request.config["cniVersion"] as? String ?? "1.1.0", "supportedVersions": CNIRequest.supportedVersions]
        case "ADD": return try add(request)
        case "DEL": delete(request)
        case "CHECK": try check(request)
        case "STATUS":
            do { _ = try ControlSocket.call(ControlJSON.request("version"), node: request.node, seconds: 5) } catch {
                throw CNIError(code: CNIError.unavailable, message: "the switch is not running: \(describe(error))",
                               details: "start it: pier switch --config NODE.yaml")
            }
        default: try collectGarbage(request)
        }
        return nil
    }

    // MARK: ADD

    /// Address, device, port, wait; on a failure after the address, undoes what was done.
    private static func add(_ request: CNIRequest) throws(CNIError) -> [String: Any] {
        let device = CNIDevice(netns: request.netns, name: request.interface)
        if try device.exists() {
            throw CNIError(code: CNIError.device, message: "an interface \(request.interface) already exists in \(request.netns)")
        }
        let ipam = CNIDelegate(type: request.ipamType ?? "", searchPath: request.searchPath)
        let lease = try ipam.run("ADD", config: request.raw) ?? [:]
        do throws(CNIError) {
            let ips = lease["ips"] as? [[String: Any]] ?? []
            let addresses = ips.compactMap { $0["address"] as? String }
            guard !addresses.isEmpty else {
                throw CNIError(code: CNIError.invalidConfig, message: "ipam \(ipam.type) gave no address")
            }
            let routes = (lease["routes"] as? [[String: Any]] ?? []).compactMap { route -> (destination: String, gateway: String?)? in
                guard let destination = route["dst"] as? String else { return nil }
                let gateway = route["gw"] as? String ?? ips.first { sameFamily($0["address"] as? String, destination) }?["gateway"] as? String
                return (destination, gateway)
            }
            let mac = addresses.first { !$0.contains(":") }.flatMap(CNIDevice.mac(for:))
            try device.create(mac: mac, mtu: request.mtu, addresses: addresses, routes: routes)
            do throws(CNIError) {
                let change = attachment(request, addresses: addresses)
                try attach(request, change: change)
                do throws(CNIError) {
                    try request.attachments.save(port: request.portName, file: change.file, yaml: change.yaml,
                                                 netns: request.netns, device: request.interface)
                } catch {
                    detach(request)
                    throw error
                }
            } catch {
                device.remove()
                throw error
            }
            let address: String
            if let mac { address = mac } else { address = try device.mac() }
            var result: [String: Any] = [
                "cniVersion": request.version,
                "interfaces": [["name": request.interface, "mac": address, "sandbox": request.netns]],
                "ips": ips.map { ip in
                    var entry = ip
                    entry["interface"] = 0
                    return entry
                },
                "routes": lease["routes"] as? [[String: Any]] ?? [],
            ]
            if let dns = lease["dns"] as? [String: Any] { result["dns"] = dns }
            return result
        } catch {
            _ = try? ipam.run("DEL", config: request.raw)
            throw error
        }
    }

    /// The change that attaches the container: its port `{name, tap, netns, bridge}` and its
    /// port mappings to its first IPv4 address, with the name the switch logs it under.
    private static func attachment(_ request: CNIRequest, addresses: [String]) -> (file: String, yaml: String) {
        let port: JSONValue = .object([("name", .string(request.portName)), ("tap", .string(request.interface)),
                                       ("netns", .string(request.netns)), ("bridge", .string(request.bridge))])
        var fragment: [(String, JSONValue)] = [("ports", .array([port]))]
        let target = addresses.first { !$0.contains(":") }?.split(separator: "/").first.map(String.init)
        if let target, !request.portMappings.isEmpty {
            let mappings = request.portMappings.map { mapping -> JSONValue in
                .object([("proto", .string(mapping.proto)), ("hostPort", .integer(Int64(mapping.hostPort))),
                         ("to", .string("\(target):\(mapping.containerPort)"))])
            }
            fragment.append(("nat", .object([("portMappings", .array(mappings))])))
        }
        return ("cni \(request.containerID.prefix(12)) \(request.interface)", JSONValue.object(fragment).serialized)
    }

    /// Applies `change` to the switch and waits until it has the device open; on a timeout
    /// removes it again.
    private static func attach(_ request: CNIRequest, change: (file: String, yaml: String)) throws(CNIError) {
        let members: [(String, JSONValue)] = [("file", .string(change.file)), ("yaml", .string(change.yaml))]
        _ = try call(ControlJSON.request("apply", members), request)
        let deadline = Date().addingTimeInterval(attachSeconds)
        var state = ""
        while Date() < deadline {
            state = (try? call(ControlJSON.request("port", [("name", .string(request.portName))]), request))?["state"] as? String ?? state
            if state == "up" { return }
            usleep(10_000)
        }
        detach(request)
        throw CNIError(code: CNIError.tryAgainLater, message: "the switch did not attach \(request.interface) in \(request.netns) within \(Int(attachSeconds)) s (port \(request.portName) is \(state.isEmpty ? "unknown" : state))")
    }

    // MARK: DEL, CHECK, GC

    /// Removes the port, its mappings, the device and the address; each step best effort, so a
    /// second DEL (or a DEL after a failed ADD) succeeds too.
    private static func delete(_ request: CNIRequest) {
        detach(request)
        request.attachments.remove(port: request.portName)
        if !request.netns.isEmpty { CNIDevice(netns: request.netns, name: request.interface).remove() }
        do { _ = try CNIDelegate(type: request.ipamType ?? "", searchPath: request.searchPath).run("DEL", config: request.raw) } catch {
            standardError("pier (cni): DEL: \(error.message)")
        }
    }

    /// Deletes the port and the port mappings of the request from the switch; what is not
    /// there (or a switch that is not running) is not an error.
    private static func detach(_ request: CNIRequest) {
        let objects = [("port", request.portName)] + request.portMappings.map { ("portmapping", "\($0.proto)/\($0.hostPort)") }
        for (kind, name) in objects {
            _ = try? call(ControlJSON.request("delete", [("kind", .string(kind)), ("name", .string(name))]), request)
        }
    }

    /// The interface is there with `prevResult`'s addresses, the address is still leased
    /// (IPAM CHECK) and the switch has the port up.
    private static func check(_ request: CNIRequest) throws(CNIError) {
        guard let previous = request.previousResult else {
            throw CNIError(code: CNIError.invalidConfig, message: "prevResult: CHECK needs the result of ADD")
        }
        _ = try CNIDelegate(type: request.ipamType ?? "", searchPath: request.searchPath).run("CHECK", config: request.raw)
        let device = CNIDevice(netns: request.netns, name: request.interface)
        guard try device.exists() else {
            throw CNIError(code: CNIError.checkFailed, message: "no interface \(request.interface) in \(request.netns)")
        }
        let present = try device.addresses()
        for address in (previous["ips"] as? [[String: Any]] ?? []).compactMap({ $0["address"] as? String }) where !present.contains(address) {
            throw CNIError(code: CNIError.checkFailed, message: "\(request.interface) in \(request.netns) lacks \(address) (has \(present.joined(separator: ", ")))")
        }
        let state: String
        do {
            state = try call(ControlJSON.request("port", [("name", .string(request.portName))]), request)["state"] as? String ?? "unknown"
        } catch where error.code == CNIError.switchRefused {
            throw CNIError(code: CNIError.checkFailed, message: "the switch has no port \(request.portName) for \(request.interface)", details: error.message)
        }
        guard state == "up" else {
            throw CNIError(code: CNIError.checkFailed, message: "port \(request.portName) (\(request.interface) in \(request.netns)) is \(state), not up")
        }
    }

    /// GC (1.1.0): removes the switch's plugin ports (`cni…`) and the records of attachments
    /// not in `cni.dev/valid-attachments`, then lets the IPAM plugin collect its own.
    private static func collectGarbage(_ request: CNIRequest) throws(CNIError) {
        let valid = Set((request.config["cni.dev/valid-attachments"] as? [[String: Any]] ?? []).compactMap { attachment -> String? in
            guard let id = attachment["containerID"] as? String, let name = attachment["ifname"] as? String else { return nil }
            return CNIRequest.portName(containerID: id, interface: name)
        })
        let text = try call(ControlJSON.request("get", [("kind", .string("port")), ("format", .string("json"))]), request)["text"] as? String ?? ""
        let ports = ((try? JSONSerialization.jsonObject(with: Data(text.utf8))) as? [String: Any])?["ports"] as? [[String: Any]] ?? []
        for name in ports.compactMap({ $0["name"] as? String }) where name.hasPrefix("cni") && name.count == 15 && !valid.contains(name) {
            _ = try? call(ControlJSON.request("delete", [("kind", .string("port")), ("name", .string(name))]), request)
        }
        for entry in request.attachments.entries() {
            let port = String((entry.path as NSString).lastPathComponent.dropLast(5))
            if !valid.contains(port) { request.attachments.remove(port: port) }
        }
        if let type = request.ipamType { _ = try CNIDelegate(type: type, searchPath: request.searchPath).run("GC", config: request.raw) }
    }

    // MARK: The switch

    /// Sends a request to the switch of the request's node; a switch that cannot be reached
    /// is error 11 (try again later), one that refuses is Pier's 101.
    private static func call(_ line: String, _ request: CNIRequest) throws(CNIError) -> [String: Any] {
        do { return try ControlSocket.call(line, node: request.node, seconds: 10) } catch let failure as InputError {
            throw CNIError(code: CNIError.switchRefused, message: "the switch refused: \(failure.message)")
        } catch {
            throw CNIError(code: CNIError.tryAgainLater, message: "the pier switch for node \(request.node ?? "(any)") is not reachable: \(describe(error))",
                           details: "start it: pier switch --config NODE.yaml (its control socket is \(ControlSocket.path(node: request.node ?? "NODE")))")
        }
    }

    /// One line about a control-socket failure.
    private static func describe(_ error: any Error) -> String {
        switch error {
        case let failure as RuntimeFailure: failure.message
        case let input as InputError: input.message
        default: "\(error)"
        }
    }

    /// True when `address` and `destination` are both IPv6 or both IPv4.
    private static func sameFamily(_ address: String?, _ destination: String) -> Bool {
        (address?.contains(":") ?? false) == destination.contains(":")
    }
}
