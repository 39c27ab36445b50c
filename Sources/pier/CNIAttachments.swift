import CTap
import Foundation
import Topology

#if canImport(Glibc)
import Glibc
#endif

/// Where the CNI plugin keeps the attachments it made, so a switch that restarts re-attaches
/// its containers: one JSON file per attachment, `DIR/NODE/PORT.json`
/// (`{"file","yaml","netns","device"}`: the change ADD applied, and where its TAP device is),
/// written by ADD once the switch has the port up and removed by DEL. `pier switch` applies
/// them over its `--config` before it starts (`CNIAttachments.restore`), dropping those whose
/// namespace or device is gone (the container died while the switch was down).
///
/// The directory is `/var/lib/pier/cni` unless the network configuration says `stateDir` (and
/// the switch `--cni-state`); like host-local's `/var/lib/cni/networks`, it outlives a reboot
/// only as far as the namespaces it names do, which is why a stale entry is dropped, not kept.
struct CNIAttachments {
    /// The default directory.
    static let defaultDirectory = "/var/lib/pier/cni"

    /// The directory of the node's attachments.
    let directory: String

    /// The attachments of `node` under `root`.
    init(root: String = defaultDirectory, node: String) {
        directory = root + "/" + node
    }

    /// One recorded attachment.
    struct Entry {
        /// The file it is recorded in.
        var path: String
        /// The name changes from it are logged under (`cni 0123456789ab eth0`).
        var file: String
        /// The change ADD applied: the port (and its port mappings), as YAML or JSON.
        var yaml: String
        /// The container's namespace and its TAP device there.
        var netns: String
        var device: String

        /// True while the namespace and the device in it exist.
        var isPresent: Bool {
            guard pier_inode(netns) != 0 else { return false }
            let home = pier_netns_enter(netns)
            guard home >= 0 else { return false }
            defer { _ = pier_netns_return(home) }
            return if_nametoindex(device) != 0
        }
    }

    /// Records the attachment of port `port` (written whole, then renamed into place, so a
    /// switch starting meanwhile reads it whole or not at all).
    func save(port: String, file: String, yaml: String, netns: String, device: String) throws(CNIError) {
        let object: [String: String] = ["file": file, "yaml": yaml, "netns": netns, "device": device]
        let path = directory + "/" + port + ".json"
        do {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
            let data = try JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
            let temporary = path + ".\(getpid()).tmp"
            try data.write(to: URL(fileURLWithPath: temporary))
            guard rename(temporary, path) == 0 else { throw CocoaError(.fileWriteUnknown) }
        } catch {
            throw CNIError(code: CNIError.device, message: "cannot record the attachment in \(path): \(error)",
                           details: "the switch would not re-attach this container after a restart")
        }
    }

    /// Forgets the attachment of port `port` (nothing recorded is not an error).
    func remove(port: String) {
        unlink(directory + "/" + port + ".json")
    }

    /// Every recorded attachment, in name order; files that do not parse are skipped with
    /// `problem` told their path.
    func entries(problem: (String) -> Void = { _ in }) -> [Entry] {
        let names = ((try? FileManager.default.contentsOfDirectory(atPath: directory)) ?? []).filter { $0.hasSuffix(".json") }.sorted()
        return names.compactMap { name in
            let path = directory + "/" + name
            guard let data = FileManager.default.contents(atPath: path),
                  let object = (try? JSONSerialization.jsonObject(with: data)) as? [String: String],
                  let file = object["file"], let yaml = object["yaml"], let netns = object["netns"], let device = object["device"]
            else {
                problem("\(path): not an attachment record ({\"file\",\"yaml\",\"netns\",\"device\"})")
                return nil
            }
            return Entry(path: path, file: file, yaml: yaml, netns: netns, device: device)
        }
    }

    /// `topology` with every present attachment applied; an attachment whose container is gone
    /// is forgotten, one the topology refuses is kept (a later switch may take it) and told.
    func restore(into topology: Topology, log: (String) -> Void) -> (topology: Topology, restored: Int) {
        var topology = topology
        var restored = 0
        for entry in entries(problem: log) {
            guard entry.isPresent else {
                unlink(entry.path)
                log("forgot the CNI attachment \(entry.file): \(entry.device) in \(entry.netns) is gone")
                continue
            }
            do {
                topology = try topology.applying(yaml: entry.yaml, file: entry.path).topology
                restored += 1
            } catch {
                log("the CNI attachment \(entry.file) was not re-attached: \(error.description)")
            }
        }
        return (topology, restored)
    }
}
