import Foundation

/// A failure of the CNI plugin, written as the specification's error object on stdout
/// (`{"cniVersion","code","msg","details"}`, CNI 1.0.0 "Error") with a non-zero exit.
struct CNIError: Error {
    /// The specification's code (1–99), or Pier's own (100 and up).
    var code: Int
    /// What went wrong, in one line.
    var message: String
    /// More about it (what was tried, what to do).
    var details: String = ""

    /// The specification's codes: 1 incompatible CNI version, 4 invalid necessary environment
    /// variables, 6 failed to decode content, 7 invalid network config, 11 try again later (the
    /// switch is not running, or a port did not come up in time), 50 the plugin is not
    /// available (STATUS, 1.1.0).
    static let incompatibleVersion = 1, invalidEnvironment = 4, decodeFailure = 6, invalidConfig = 7, tryAgainLater = 11, unavailable = 50
    /// Pier's own: 100 the container's interface could not be made, found or configured; 101
    /// the switch refused a change or a question; 102 CHECK found the attachment not as ADD
    /// left it.
    static let device = 100, switchRefused = 101, checkFailed = 102

    /// The error object, for a network configuration of `version`.
    func json(version: String) -> [String: Any] {
        var object: [String: Any] = ["cniVersion": version, "code": code, "msg": message]
        if !details.isEmpty { object["details"] = details }
        return object
    }
}

/// One invocation of the plugin: the command and the variables of its environment, and the
/// network configuration read from stdin (CNI 1.0.0, "Section 2: Execution Protocol").
struct CNIRequest {
    /// The versions whose configuration and result formats the plugin speaks.
    static let supportedVersions = ["0.4.0", "1.0.0", "1.1.0"]

    /// `CNI_COMMAND`: ADD, DEL, CHECK, VERSION, STATUS or GC.
    let command: String
    /// `CNI_CONTAINERID`.
    let containerID: String
    /// `CNI_NETNS` (empty for DEL of a container whose namespace is gone).
    let netns: String
    /// `CNI_IFNAME`.
    let interface: String
    /// `CNI_PATH`, split at `:`: where delegated plugins (IPAM) are looked up.
    let searchPath: [String]
    /// The configuration as received, handed whole to the IPAM plugin.
    let raw: Data
    /// The configuration, decoded.
    let config: [String: Any]

    /// `cniVersion`.
    var version: String { config["cniVersion"] as? String ?? "1.0.0" }
    /// `node`: the switch's node name (nil: the only switch running).
    var node: String? { config["node"] as? String }
    /// `bridge`: the switch's bridge the port joins (default `cni0`).
    var bridge: String { config["bridge"] as? String ?? "cni0" }
    /// `mtu`.
    var mtu: Int? { config["mtu"] as? Int }
    /// `ipam.type`.
    var ipamType: String? { (config["ipam"] as? [String: Any])?["type"] as? String }
    /// Where the attachments are recorded for the switch to re-attach after a restart:
    /// `stateDir` (default `/var/lib/pier/cni`), then the node's name.
    var attachments: CNIAttachments {
        CNIAttachments(root: config["stateDir"] as? String ?? CNIAttachments.defaultDirectory,
                       node: node ?? ControlSocket.onlyNode() ?? "default")
    }
    /// `prevResult` (DEL, CHECK, chained ADD).
    var previousResult: [String: Any]? { config["prevResult"] as? [String: Any] }

    /// The switch's port for this attachment: `cni` and 12 hex digits of a hash of the
    /// container's ID and interface name, so DEL finds what ADD made (15 characters: a Linux
    /// interface name's length, as every port name may be one).
    var portName: String { Self.portName(containerID: containerID, interface: interface) }

    /// The port name of the attachment of `interface` in container `containerID`.
    static func portName(containerID: String, interface: String) -> String {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325  // FNV-1a, 64-bit
        for byte in (containerID + "/" + interface).utf8 {
            hash = (hash ^ UInt64(byte)) &* 0x100_0000_01b3
        }
        return "cni" + String(format: "%016llx", hash).prefix(12)
    }

    /// `runtimeConfig.portMappings` (capability `portMappings`): `{hostPort, containerPort, protocol}`.
    var portMappings: [(proto: String, hostPort: Int, containerPort: Int)] {
        let runtime = config["runtimeConfig"] as? [String: Any]
        return (runtime?["portMappings"] as? [[String: Any]] ?? []).compactMap { entry in
            guard let host = entry["hostPort"] as? Int, let container = entry["containerPort"] as? Int else { return nil }
            return ((entry["protocol"] as? String ?? "tcp").lowercased(), host, container)
        }
    }

    /// Reads the request; the checks run in the specification's order of concerns: the
    /// command (4), its configuration (6, 1, 7), then the variables the command needs (4).
    init(environment: [String: String], stdin: Data) throws(CNIError) {
        command = environment["CNI_COMMAND"] ?? ""
        guard ["ADD", "DEL", "CHECK", "VERSION", "STATUS", "GC"].contains(command) else {
            throw CNIError(code: CNIError.invalidEnvironment, message: "CNI_COMMAND: expected ADD, DEL, CHECK, VERSION, STATUS or GC, got \(command.isEmpty ? "nothing" : command)")
        }
        raw = stdin
        containerID = environment["CNI_CONTAINERID"] ?? ""
        netns = environment["CNI_NETNS"] ?? ""
        interface = environment["CNI_IFNAME"] ?? ""
        searchPath = (environment["CNI_PATH"] ?? "").split(separator: ":").map(String.init)
        guard command != "VERSION" else {
            config = (try? JSONSerialization.jsonObject(with: stdin)) as? [String: Any] ?? [:]
            return
        }
        guard let decoded = (try? JSONSerialization.jsonObject(with: stdin)) as? [String: Any] else {
            throw CNIError(code: CNIError.decodeFailure, message: "the network configuration on stdin is not a JSON object")
        }
        config = decoded
        guard let version = decoded["cniVersion"] as? String else {
            throw CNIError(code: CNIError.invalidConfig, message: "cniVersion: expected a string such as \"1.0.0\"")
        }
        guard Self.supportedVersions.contains(version) else {
            throw CNIError(code: CNIError.incompatibleVersion, message: "cniVersion \(version) is not supported",
                           details: "supported: \(Self.supportedVersions.joined(separator: ", "))")
        }
        try checkConfig()
        try checkEnvironment()
    }

    /// The keys the plugin reads have the types it expects.
    private func checkConfig() throws(CNIError) {
        func invalid(_ problem: String) -> CNIError { CNIError(code: CNIError.invalidConfig, message: problem) }
        guard config["name"] is String else { throw invalid("name: expected the network's name, a string") }
        guard config["type"] is String else { throw invalid("type: expected \"pier\"") }
        for key in ["node", "bridge", "stateDir"] where config[key] != nil && !(config[key] is String) {
            throw invalid("\(key): expected a string")
        }
        if config["mtu"] != nil, mtu.map({ !(68...65_535).contains($0) }) ?? true {
            throw invalid("mtu: expected a number from 68 to 65535")
        }
        if ["ADD", "DEL", "CHECK"].contains(command), ipamType == nil {
            throw invalid("ipam: expected {\"type\": \"host-local\", …} (the plugin that gives the container its address)")
        }
    }

    /// The variables ADD, CHECK and DEL need are there.
    private func checkEnvironment() throws(CNIError) {
        var needed: [(String, String)] = []
        switch command {
        case "ADD", "CHECK":
            needed = [("CNI_CONTAINERID", containerID), ("CNI_NETNS", netns), ("CNI_IFNAME", interface), ("CNI_PATH", searchPath.joined())]
        case "DEL":
            needed = [("CNI_CONTAINERID", containerID), ("CNI_IFNAME", interface), ("CNI_PATH", searchPath.joined())]
        default: return
        }
        let missing = needed.filter(\.1.isEmpty).map(\.0)
        guard missing.isEmpty else {
            throw CNIError(code: CNIError.invalidEnvironment, message: "\(command) needs \(missing.joined(separator: ", ")) in the environment")
        }
        if interface.utf8.count > 15 || interface.contains("/") {
            throw CNIError(code: CNIError.invalidEnvironment, message: "CNI_IFNAME \(interface): expected an interface name of at most 15 characters")
        }
    }
}
