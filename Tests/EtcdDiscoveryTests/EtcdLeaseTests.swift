import Foundation
import PierTestSupport
import Synchronization
import Testing
import Topology
import Wire
@testable import EtcdDiscovery

/// The lease and the watch against a real etcd (Debian's etcd-server 3.4 on loopback, data in a
/// temporary folder), with etcdctl as the independent reader and writer.
@Suite(.serialized, .enabled(if: EtcdServer.unavailableReason == nil, "etcd tests need etcd and etcdctl (make test-deps)"))
struct EtcdLeaseTests {
    static let prefix = "/coreos.com/network"
    static let network = #"{"Network":"10.244.0.0/16","Backend":{"Type":"vxlan"}}"#

    func leaser(_ etcd: EtcdServer, ip: String, requested: String? = nil) throws -> SubnetLeaser {
        let network = try FlannelNetworkConfig(json: Data(Self.network.utf8))
        let attributes = FlannelLease(subnet: OverlayConfig.unleasedPodCIDR, publicIP: IPv4Address(ip)!, backendType: "vxlan",
                                      vni: 1, vtepMAC: MACAddress("02:aa:00:00:00:\(ip.split(separator: ".").last!)"))
        return SubnetLeaser(gateway: EtcdGateway(endpoints: [etcd.endpoint]), prefix: Self.prefix, network: network,
                            attributes: attributes, requested: requested.flatMap { IPv4Prefix($0) })
    }

    /// A node takes the first free subnet (etcdctl reads flannel's JSON there, attached to a
    /// lease of 24 hours); a second takes the next; a node that comes back gets its own again;
    /// a subnet asked for that another node holds is an error naming it.
    @Test func leasesAFreeSubnetOnce() async throws {
        let etcd = try EtcdServer()
        try etcd.put(Self.prefix + "/config", Self.network)
        try etcd.put(Self.prefix + "/subnets/10.244.1.0-24", #"{"PublicIP":"192.168.9.99","BackendType":"vxlan","BackendData":{"VNI":1,"VtepMAC":"02:aa:00:00:00:99"}}"#)
        let first = try await leaser(etcd, ip: "192.168.9.10").acquire()
        #expect(first.lease.subnet.description == "10.244.2.0/24" && first.key == Self.prefix + "/subnets/10.244.2.0-24")
        let written = try etcd.ctl("get", first.key, "--print-value-only")
        #expect(written.trimmingCharacters(in: .whitespacesAndNewlines)
            == #"{"PublicIP":"192.168.9.10","BackendType":"vxlan","BackendData":{"VNI":1,"VtepMAC":"02:aa:00:00:00:10"}}"#)
        let ttl = try etcd.ctl("lease", "timetolive", String(UInt64(bitPattern: first.id), radix: 16))
        #expect(ttl.contains("granted with TTL(86400s)"), "\(ttl)")
        let second = try await leaser(etcd, ip: "192.168.9.20").acquire()
        #expect(second.lease.subnet.description == "10.244.3.0/24")
        let again = try await leaser(etcd, ip: "192.168.9.10").acquire()
        #expect(again.lease.subnet == first.lease.subnet && again.id != first.id)
        await #expect(throws: EtcdGateway.Failure.self) { try await leaser(etcd, ip: "192.168.9.30", requested: "10.244.3.0/24").acquire() }
        let asked = try await leaser(etcd, ip: "192.168.9.30", requested: "10.244.7.0/24").acquire()
        #expect(asked.key == Self.prefix + "/subnets/10.244.7.0-24")
    }

    /// Ten nodes lease at once: the transaction on the key's create revision gives each its own subnet.
    @Test func concurrentNodesGetDistinctSubnets() async throws {
        let etcd = try EtcdServer()
        try etcd.put(Self.prefix + "/config", Self.network)
        let leasers = try (1...10).map { try leaser(etcd, ip: "192.168.9.\($0)") }
        let subnets = try await withThrowingTaskGroup(of: IPv4Prefix.self) { group in
            for leaser in leasers { group.addTask { try await leaser.acquire().lease.subnet } }
            return try await group.reduce(into: [IPv4Prefix]()) { $0.append($1) }
        }
        #expect(Set(subnets).count == 10, "\(subnets)")
        let keys = try etcd.ctl("get", Self.prefix + "/subnets/", "--prefix", "--keys-only").split(separator: "\n")
        #expect(keys.count == 10)
    }

    /// Renewal: a 3 s lease renewed 2 s before its end outlives its TTL; revoked meanwhile, it is
    /// taken again (the key comes back with a new lease).
    @Test func renewsAndRetakesTheLease() async throws {
        let etcd = try EtcdServer()
        try etcd.put(Self.prefix + "/config", Self.network)
        var leaser = try leaser(etcd, ip: "192.168.9.10")
        leaser.ttl = 3
        leaser.renewBefore = 2
        let held = try await leaser.acquire()
        let renewals = Mutex(0)
        let renewing = Task { await leaser.keepRenewed(held, onProblem: { _ in }, onRenewed: { _ in renewals.withLock { $0 += 1 } }) }
        defer { renewing.cancel() }
        try await Task.sleep(for: .seconds(4.5))
        #expect(try etcd.ctl("get", held.key, "--keys-only").contains(held.key), "the key expired although renewed")
        #expect(renewals.withLock { $0 } >= 3)
        try etcd.ctl("lease", "revoke", String(UInt64(bitPattern: held.id), radix: 16))
        #expect(try etcd.ctl("get", held.key, "--keys-only").isEmpty)
        try await Task.sleep(for: .seconds(2))
        let back = try etcd.ctl("get", held.key, "-w", "json")
        #expect(back.contains("\"lease\":") && !back.contains("\"lease\":\(held.id)"), "\(back)")
    }

    /// The watcher: the list, then puts and deletes (a lease revoked) as they happen, a bad lease
    /// logged once per revision; etcd killed for 2 s and started again: the peers stay
    /// meanwhile, the loss and the return are told once each, and a lease written after is
    /// learned; a watch from a compacted revision ends saying so.
    @Test func watchesLeasesAcrossAnOutage() async throws {
        let etcd = try EtcdServer()
        try etcd.put(Self.prefix + "/config", Self.network)
        func value(_ n: Int) -> String {
            #"{"PublicIP":"192.168.9.\#(n)","BackendType":"vxlan","BackendData":{"VNI":1,"VtepMAC":"02:aa:00:00:00:0\#(n)"}}"#
        }
        try etcd.put(Self.prefix + "/subnets/10.244.2.0-24", value(2))
        let network = try FlannelNetworkConfig(json: Data(Self.network.utf8))
        let own = FlannelLease(subnet: IPv4Prefix("10.244.1.0/24")!, publicIP: IPv4Address("192.168.9.1")!, backendType: "vxlan")
        let seen = Mutex<[[String]]>([]), lines = Mutex<[String]>([])
        let watcher = PeerWatcher(gateway: EtcdGateway(endpoints: [etcd.endpoint]), prefix: Self.prefix, network: network, own: own,
                                  sinks: .init(peers: { peers in seen.withLock { $0.append(peers.map(\.node)) } },
                                               log: { line in lines.withLock { $0.append(line) } }))
        let watching = Task { await watcher.run() }
        defer { watching.cancel() }
        func waitFor(_ nodes: [String]) async -> Bool {
            for _ in 0..<100 {
                if seen.withLock({ $0.last }) == nodes { return true }
                try? await Task.sleep(for: .milliseconds(50))
            }
            return false
        }
        #expect(await waitFor(["10.244.2.0-24"]))
        let lease = try etcd.grant(ttl: 60)
        try etcd.put(Self.prefix + "/subnets/10.244.3.0-24", value(3), lease: lease)
        #expect(await waitFor(["10.244.2.0-24", "10.244.3.0-24"]))
        try etcd.put(Self.prefix + "/subnets/10.244.9.0-24", "{broken")
        try etcd.put(Self.prefix + "/subnets/10.244.9.0-24", "{broken again")
        try etcd.ctl("lease", "revoke", lease)
        #expect(await waitFor(["10.244.2.0-24"]))
        #expect(lines.withLock { $0.filter { $0.contains("10.244.9.0-24 ignored") } }.count == 2)
        etcd.stop()
        try await Task.sleep(for: .seconds(2))
        #expect(seen.withLock { $0.last } == ["10.244.2.0-24"], "the peers stay while etcd is away")
        try etcd.start()
        try etcd.put(Self.prefix + "/subnets/10.244.4.0-24", value(4))
        #expect(await waitFor(["10.244.2.0-24", "10.244.4.0-24"]), "\(lines.withLock { $0 })")
        let told = lines.withLock { $0 }
        #expect(told.filter { $0.hasPrefix("etcd unreachable") }.count == 1 && told.filter { $0.hasPrefix("etcd reachable again") }.count == 1, "\(told)")
        // A watch from a revision compacted away ends saying so (the watcher then lists again).
        let revision = try etcd.ctl("get", "x", "-w", "json").split(separator: "\"revision\":").last?.prefix { $0.isNumber } ?? ""
        try etcd.ctl("compact", String(revision))
        do {
            try await EtcdGateway(endpoints: [etcd.endpoint]).watch(prefix: Self.prefix + "/subnets/", from: 2, onEvents: { _, _ in })
        } catch {
            guard case .compacted(let at) = error else { Issue.record("expected compacted, got \(error)"); return }
            #expect(String(at) == revision)
        }
    }

    /// Start-up: a backend, VNI or port that disagrees with PREFIX/config is an error naming
    /// both values and leases nothing; one that agrees leases a subnet and gives the topology
    /// its podCIDR; no config at all is an error saying what is missing.
    @Test func startsOnlyOnAnAgreeingConfig() async throws {
        let etcd = try EtcdServer()
        func topology(_ overlay: String) throws -> Topology {
            try Topology.parse(yaml: """
                node: n1
                ports:
                  - {name: eth0, ip: 192.168.9.10/24}
                overlay: {\(overlay), etcd: {endpoints: [\(etcd.endpoint)]}}
                """, file: "n1.yaml")
        }
        do {
            _ = try await EtcdOverlay.start(try topology("backend: vxlan"), log: { _ in })
            Issue.record("started without a network config")
        } catch { #expect("\(error)".contains("/coreos.com/network/config: no network config in etcd"), "\(error)") }
        try etcd.put(Self.prefix + "/config", Self.network)
        for (overlay, problem) in [("backend: host-gw", "overlay.backend is host-gw but the network config's Backend.Type is vxlan"),
                                   ("backend: vxlan, vni: 7", "overlay.vni is 7 but the network config's Backend.VNI is 1")] {
            do {
                _ = try await EtcdOverlay.start(try topology(overlay), log: { _ in })
                Issue.record("started with \(overlay)")
            } catch { #expect("\(error)".contains(problem), "\(error)") }
        }
        #expect(try etcd.ctl("get", Self.prefix + "/subnets/", "--prefix", "--keys-only").isEmpty)
        let (overlay, leased) = try await EtcdOverlay.start(try topology("backend: vxlan"), log: { _ in })
        #expect(leased.overlay?.podCIDR.description == "10.244.1.0/24" && overlay.held.lease.publicIP.description == "192.168.9.10")
        // Running: its key deleted by someone else is written again at once.
        let lines = Mutex<[String]>([])
        overlay.run(peers: { _ in }, log: { line in lines.withLock { $0.append(line) } })
        try await Task.sleep(for: .milliseconds(300))
        try etcd.ctl("del", overlay.held.key)
        var back = false
        for _ in 0..<40 where !back {
            try await Task.sleep(for: .milliseconds(50))
            back = try etcd.ctl("get", overlay.held.key, "--keys-only").contains(overlay.held.key)
        }
        #expect(back && lines.withLock { $0 }.contains { $0.contains("was deleted; writing it again") }, "\(lines.withLock { $0 })")
        await overlay.stop(revoke: true)
        #expect(try etcd.ctl("get", Self.prefix + "/subnets/", "--prefix", "--keys-only").isEmpty)
    }
}
