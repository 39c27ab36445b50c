import ArgumentParser
import CTap
import PacketIO
import Topology
import Wire

#if canImport(Glibc)
import Glibc
#endif

/// `pier up TOPO`: makes the network namespaces of the topology's `containers:`, as Docker
/// would for containers on a bridge network. Per container in `bridge` mode: a namespace
/// named after it, its port's TAP device (persistent, made in this namespace) moved in and
/// renamed `eth0` with Docker's MAC (02:42 and its IPv4 address), its addresses, the bridge's address as default route, `lo` up. `none`:
/// a namespace with loopback only. `container:NAME`: a second name for NAME's namespace.
/// Idempotent: each step is done only when missing, and each line says what was done.
///
/// Run it before or after `pier switch`: the switch attaches to each `eth0` as it appears.
struct UpCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "up", abstract: "Make the topology's containers as network namespaces linked by TAP devices.")

    @Argument(help: "The node's topology (YAML).")
    var topology: String

    func run() throws {
        let loaded = try ContainerNetworks.load(topology)
        try ContainerNetworks.requireRoot("up")
        // Namespaces of their own first, so that container:NAME finds NAME's.
        let ordered = loaded.containers.filter { !$0.isShared } + loaded.containers.filter(\.isShared)
        for container in ordered {
            let done = try ContainerNetworks.up(container, topology: loaded)
            standardOutput("up \(container.name): " + (done.isEmpty ? "already up" : done.joined(separator: ", ")))
        }
    }
}

/// `pier down TOPO`: removes what `pier up` made (namespaces, and TAP devices left in this
/// namespace by a half-made `up`); says what it removed, or that it was already gone.
struct DownCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "down", abstract: "Remove the topology's container namespaces and their TAP devices.")

    @Argument(help: "The node's topology (YAML).")
    var topology: String

    func run() throws {
        let loaded = try ContainerNetworks.load(topology)
        try ContainerNetworks.requireRoot("down")
        // Second names first, then the namespaces they name.
        let ordered = loaded.containers.filter(\.isShared) + loaded.containers.filter { !$0.isShared }
        for container in ordered {
            let done = try ContainerNetworks.down(container, topology: loaded)
            standardOutput("down \(container.name): " + (done.isEmpty ? "already down" : done.joined(separator: ", ")))
        }
    }
}

extension ContainerConfig {
    /// True for `container:NAME`, which has no namespace of its own.
    var isShared: Bool {
        if case .container = mode { return true }
        return false
    }
}

/// The steps of `pier up` and `pier down` for one container, each done only when needed.
enum ContainerNetworks {
    static func load(_ path: String) throws -> Topology {
        do { return try Topology.load(path: path) } catch { throw InputError(message: error.description) }
    }

    static func requireRoot(_ verb: String) throws {
        guard geteuid() == 0 else { throw RuntimeFailure(message: "pier \(verb) changes network namespaces: run it as root") }
    }

    /// Brings `container` up; returns what it did.
    static func up(_ container: ContainerConfig, topology: Topology) throws -> [String] {
        var done: [String] = []
        switch container.mode {
        case .container(let owner):
            guard !IPCommand.namespaceExists(container.name) else { return [] }
            let result = pier_bind_mount(TapPort.namespacePath(owner), TapPort.namespacePath(container.name))
            guard result == 0 else {
                throw RuntimeFailure(message: "\(container.name): cannot share namespace \(owner): \(systemMessage(-result))")
            }
            return ["shares namespace \(owner)"]
        case .isolated, .bridge:
            if !IPCommand.namespaceExists(container.name) {
                try IPCommand.require(["netns", "add", container.name])
                done.append("namespace \(container.name) made")
            }
            if !isUp("lo", in: container.name) {
                try IPCommand.require(["-n", container.name, "link", "set", "lo", "up"])
                done.append("lo up")
            }
        }
        guard container.mode == .bridge, let portName = container.port,
              let port = topology.portID(named: portName).flatMap(topology.port) else { return done }
        guard let tap = port.tap else {
            throw InputError(message: "container \(container.name): its port \(portName) has no tap: device to move in")
        }
        done += try linkUp(container, tap: tap)
        done += try addresses(container, port: portName, topology: topology)
        return done
    }

    /// The TAP device in the namespace as `eth0`, up.
    private static func linkUp(_ container: ContainerConfig, tap: String) throws -> [String] {
        let namespace = container.name
        var done: [String] = []
        if !IPCommand.linkExists("eth0", in: namespace) {
            if !IPCommand.linkExists(tap, in: namespace) {
                if !IPCommand.linkExists(tap, in: nil) {
                    try IPCommand.require(["tuntap", "add", "dev", tap, "mode", "tap"])
                    done.append("tap \(tap) made")
                }
                try IPCommand.require(["link", "set", "dev", tap, "netns", namespace])
            }
            try IPCommand.require(["-n", namespace, "link", "set", "dev", tap, "name", "eth0"])
            done.append("\(tap) moved in as eth0")
        }
        if let mac = dockerMAC(container), !IPCommand.run(["-n", namespace, "-o", "link", "show", "dev", "eth0"]).output.contains(" \(mac) ") {
            try IPCommand.require(["-n", namespace, "link", "set", "dev", "eth0", "address", mac])
            done.append("eth0 \(mac)")
        }
        if !isUp("eth0", in: namespace) {
            try IPCommand.require(["-n", namespace, "link", "set", "dev", "eth0", "up"])
            done.append("eth0 up")
        }
        return done
    }

    /// The container's addresses on `eth0` and its default route via its bridge's address.
    private static func addresses(_ container: ContainerConfig, port: String, topology: Topology) throws -> [String] {
        let namespace = container.name
        var done: [String] = []
        let present = IPCommand.run(["-n", namespace, "-o", "addr", "show", "dev", "eth0"]).output
        for address in container.addresses.map(\.description) + container.addresses6.map(\.description)
            where !present.contains(" \(address) ") {
            try IPCommand.require(["-n", namespace, "addr", "add", address, "dev", "eth0"])
            done.append("eth0 \(address)")
        }
        let bridge = topology.bridge(containingPort: port)
        if let gateway = bridge?.addresses.first(where: { gateway in container.addresses.contains { $0.contains(gateway.address) } }) {
            let routes = IPCommand.run(["-n", namespace, "route", "show", "default"]).output
            if !routes.contains("via \(gateway.address) ") {
                try IPCommand.require(["-n", namespace, "route", "replace", "default", "via", gateway.address.description, "dev", "eth0"])
                done.append("default via \(gateway.address)")
            }
        }
        return done
    }

    /// Docker's MAC for a container: 02:42 then its IPv4 address, so a container made again
    /// keeps its MAC and its neighbours' ARP entries stay right.
    private static func dockerMAC(_ container: ContainerConfig) -> String? {
        guard let address = container.addresses.first?.address.rawValue else { return nil }
        return MACAddress(rawValue: 0x0242 << 32 | UInt64(address)).description
    }

    /// True when `device` in `namespace` is administratively up.
    private static func isUp(_ device: String, in namespace: String) -> Bool {
        let text = IPCommand.run(["-n", namespace, "-o", "link", "show", "dev", device]).output
        guard let flags = text.split(separator: "<").dropFirst().first?.split(separator: ">").first else { return false }
        return flags.split(separator: ",").contains("UP")
    }

    /// Takes `container` down; returns what it removed.
    static func down(_ container: ContainerConfig, topology: Topology) throws -> [String] {
        var done: [String] = []
        if IPCommand.namespaceExists(container.name) {
            try IPCommand.require(["netns", "delete", container.name])
            done.append(container.isShared ? "second name \(container.name) removed" : "namespace \(container.name) removed")
        }
        if container.mode == .bridge, let portName = container.port,
           let tap = topology.portID(named: portName).flatMap(topology.port)?.tap,
           IPCommand.linkExists(tap, in: nil) {
            try IPCommand.require(["link", "delete", "dev", tap])
            done.append("tap \(tap) removed")
        }
        return done
    }
}
