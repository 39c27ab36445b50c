/// Containers: unique names, known ports used once, and `container:NAME` naming another
/// container.
extension Validator {
    /// Runs the container checks.
    mutating func checkContainers() {
        let containers = topology.containers
        let names = containers.map(\.name)
        for (index, first) in duplicates(names, in: "containers") {
            fail("containers[\(index)].name",
                 "duplicate container name \(quoted(names[index])), also \(reference("containers[\(first)].name")); expected each container to have its own name")
        }
        var portUser: [String: Int] = [:]
        for index in order("containers", count: containers.count) {
            let container = containers[index]
            let at = "containers[\(index)]"
            if case .container(let other) = container.mode {
                if other == container.name {
                    fail("\(at).mode", "container \(quoted(other)) cannot share its own namespace; expected container:NAME naming another container")
                } else if !names.contains(other) {
                    fail("\(at).mode", "unknown container \(quoted(other)) (expected container:NAME with one of: \(names.joined(separator: ", ")))")
                }
            }
            if container.mode != .bridge {
                if container.port != nil {
                    fail("\(at).port", "a container in mode \(container.mode) has no link of its own; expected no port (or mode: bridge)")
                }
                if !container.addresses.isEmpty || !container.addresses6.isEmpty {
                    let path = container.addresses.isEmpty ? "\(at).ip.v6[0]" : "\(at).ip.v4[0]"
                    fail(path, "a container in mode \(container.mode) has no link of its own; expected no ip (or mode: bridge)")
                }
            }
            guard let port = container.port else { continue }
            if portIndices[port] == nil {
                fail("\(at).port", "unknown port \(quoted(port)) (expected one of: \(portNames))")
            } else if let earlier = portUser[port] {
                fail("\(at).port", "port \(quoted(port)) is already container \(containers[earlier].name)'s, \(reference("containers[\(earlier)].port")); expected one container per port")
            } else {
                portUser[port] = index
            }
        }
    }
}
