import Foundation
import Testing
import Topology
import Wire

/// DESIGN.md's Service traffic-policy keys (issue 16) load as written there, come back out of
/// `pier get` unchanged, and bad values get a clear error at their line.
struct ServicePolicyKeysTests {
    /// The `services:` example under "Keys added by issue 16" in docs/DESIGN.md.
    static func designBlock() throws -> String {
        let path = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
            .appendingPathComponent("../../docs/DESIGN.md").standardizedFileURL.path
        let design = try String(contentsOfFile: path, encoding: .utf8)
        let section = try #require(design.range(of: "Keys added by issue 16 (a Service's traffic policies"))
        let start = try #require(design.range(of: "```yaml\n", range: section.upperBound..<design.endIndex))
        let end = try #require(design.range(of: "```", range: start.upperBound..<design.endIndex))
        return String(design[start.upperBound..<end.lowerBound])
    }

    @Test func designsExampleLoadsAsWritten() throws {
        let topology = try Topology.parse(yaml: "node: node-a\nports: [{name: eth0}]\n" + Self.designBlock(), file: "DESIGN.md")
        let web = try #require(topology.services.first)
        #expect(web.externalTrafficPolicy == .local)
        #expect(web.internalTrafficPolicy == .cluster)
        #expect(web.externalIPs == [IPv4Address(203, 0, 113, 10)])
        #expect(web.loadBalancerIngress == [IPv4Address(203, 0, 113, 20)])
        #expect(web.sessionAffinity == .clientIP)
        #expect(web.affinityTimeout == 600)
        #expect(web.endpoints == [IPv4Address(10, 244, 1, 6), IPv4Address(10, 244, 1, 5), IPv4Address(10, 244, 2, 7)])
        #expect(web.endpointDetails == [
            ServiceConfig.EndpointDetails(),
            ServiceConfig.EndpointDetails(ready: true, serving: true, terminating: false, nodeName: "node-a"),
            ServiceConfig.EndpointDetails(ready: false, serving: true, terminating: true, nodeName: "node-b"),
        ])
    }

    @Test func getGivesBackWhatApplyTakes() throws {
        let topology = try Topology.parse(yaml: "node: node-a\nports: [{name: eth0}]\n" + Self.designBlock(), file: "DESIGN.md")
        let text = topology.yaml()
        #expect(text.contains("externalTrafficPolicy: Local"), "\(text)")
        #expect(!text.contains("internalTrafficPolicy"), "Cluster is the default: \(text)")
        let again = try Topology.parse(yaml: text, file: "get.yaml")
        #expect(again.services == topology.services)
        // Bare addresses stay bare: a Service without details has none after a round trip.
        let plain = try Topology.parse(yaml: "node: n\nports: [{name: eth0}]\nservices: [{name: a, clusterIP: 10.96.0.1, ports: [{port: 80}], endpoints: [10.244.1.5]}]",
                                       file: "plain.yaml")
        #expect(try Topology.parse(yaml: plain.yaml(), file: "get.yaml").services.first?.endpointDetails == [])
    }

    static let service = "node: n\nports: [{name: eth0}]\nservices:\n  - name: a\n    clusterIP: 10.96.0.1\n    ports: [{port: 80}]\n"

    static let failures: [Failure] = [
        Failure("a policy is Cluster or Local", service + "    externalTrafficPolicy: local\n", line: 7,
                path: "services[0].externalTrafficPolicy", says: "one of: Cluster, Local", "\"local\""),
        Failure("internal too", service + "    internalTrafficPolicy: Nearby\n", line: 7,
                path: "services[0].internalTrafficPolicy", says: "one of: Cluster, Local"),
        Failure("an external IP is an address", service + "    externalIPs: [203.0.113.300]\n", line: 7,
                path: "services[0].externalIPs[0]", says: "IPv4 address"),
        Failure("an ingress point has an ip", service + "    status: {loadBalancer: {ingress: [{hostname: lb.example}]}}\n", line: 7,
                path: "services[0].status.loadBalancer.ingress[0].hostname", says: "unknown key", "ip"),
        Failure("the timeout is at most a day", service + "    sessionAffinity: ClientIP\n    sessionAffinityConfig: {clientIP: {timeoutSeconds: 86401}}\n",
                line: 8, path: "services[0].sessionAffinityConfig.clientIP.timeoutSeconds", says: "from 1 to 86400", "86401"),
        Failure("a timeout needs ClientIP affinity", service + "    sessionAffinityConfig: {clientIP: {timeoutSeconds: 60}}\n", line: 7,
                path: "services[0].sessionAffinityConfig", says: "must not be set when sessionAffinity is None"),
        Failure("an endpoint has one address", service + "    endpoints: [{addresses: [10.244.1.5, 10.244.1.6]}]\n", line: 7,
                path: "services[0].endpoints[0].addresses", says: "one address, got 2"),
        Failure("conditions are true or false", service + "    endpoints: [{addresses: [10.244.1.5], conditions: {ready: maybe}}]\n", line: 7,
                path: "services[0].endpoints[0].conditions.ready", says: "true or false", "\"maybe\""),
        Failure("only the three conditions", service + "    endpoints: [{addresses: [10.244.1.5], conditions: {healthy: true}}]\n", line: 7,
                path: "services[0].endpoints[0].conditions.healthy", says: "unknown key", "ready, serving, terminating"),
        Failure("an endpoint once", service + "    endpoints: [10.244.1.5, {addresses: [10.244.1.5]}]\n", line: 7,
                path: "services[0].endpoints[1]", says: "already an endpoint"),
    ]

    @Test(arguments: failures) func badValuesFailAtTheirLine(_ failure: Failure) {
        failure.check()
    }
}
