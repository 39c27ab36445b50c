import Foundation
import Testing
@testable import EtcdDiscovery

/// A watch that etcd does not set up is given up: an endpoint that takes the TCP connection
/// (the kernel's listen queue) but never answers, as an etcd still starting can, must not
/// hold a watcher forever. (Against a real etcd, EtcdLeaseTests and LiveEtcdTests check the
/// watch itself.) How soon is not asserted beyond the timeout itself: the timer is a task on
/// this test process's cooperative threads, which the suites that block them in parallel can
/// hold for minutes (seen: 145 s in a full run); the time limit catches a watch never given up.
struct EtcdWatchSetUpTests {
    @Test(.timeLimit(.minutes(5)))
    func aWatchNobodySetsUpIsGivenUp() async throws {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #expect(listener >= 0)
        defer { close(listener) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, length) == 0 && getsockname(listener, $0, &length) == 0 }
        }
        #expect(bound && listen(listener, 8) == 0)
        let endpoint = "http://127.0.0.1:\(UInt16(bigEndian: address.sin_port))"
        let started = ContinuousClock.now
        do {
            try await EtcdGateway(endpoints: [endpoint]).watch(prefix: "/coreos.com/network/subnets/", from: 1,
                                                               setUpTimeout: .milliseconds(500), onEvents: { _, _ in })
        } catch {
            guard case .broken(let reason) = error else { Issue.record("expected broken, got \(error)"); return }
            #expect(reason.contains("not set up by etcd within"), "\(reason)")
        }
        let waited = ContinuousClock.now - started
        #expect(waited >= .milliseconds(500), "gave up before the timeout, after \(waited)")
    }
}
