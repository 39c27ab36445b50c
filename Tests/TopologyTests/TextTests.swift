import Testing
import Topology

/// `pier get`: YAML and JSON that load back to the same topology and apply as no change.
struct TextTests {
    static let documents = [("DESIGN.md", designExample), ("every key", everyKey)]

    @Test(arguments: documents)
    func wholeYAMLAndJSONLoadBackTheSame(_ name: String, _ yaml: String) throws {
        let topology = try Topology.parse(yaml: yaml, file: name)
        #expect(try Topology.parse(yaml: topology.yaml(), file: "get.yaml") == topology, "\(topology.yaml())")
        #expect(try Topology.parse(yaml: topology.json(), file: "get.json") == topology, "\(topology.json())")
    }

    @Test(arguments: documents)
    func applyingWhatGetShowsIsNoChange(_ name: String, _ yaml: String) throws {
        let topology = try Topology.parse(yaml: yaml, file: name)
        for kind in [nil] + ObjectKind.allCases.map(Optional.some) {
            for text in [topology.yaml(kind), topology.json(kind)] {
                let (result, changes) = try topology.applying(yaml: text, file: "get")
                #expect(changes.isEmpty, "\(kind.map(\.rawValue) ?? "all"): \(changes) from\n\(text)")
                #expect(result == topology)
            }
        }
    }

    @Test func aSectionIsAFragmentOfItsOwn() throws {
        let topology = try designTopology()
        #expect(topology.yaml(.service) == """
            services:
              - name: web
                namespace: default
                clusterIP: 10.96.0.10
                ports: [{proto: tcp, port: 80, targetPort: 8080, nodePort: 30080}]
                endpoints: [10.244.1.5, 10.244.2.7]
                sessionAffinity: None

            """)
        #expect(topology.yaml(.neighbor) == "neighbors: [{ip: 192.168.1.1, mac: 02:00:c0:a8:01:01}]\n")
        #expect(topology.yaml(.portmapping) == "nat: {portMappings: [{proto: tcp, hostPort: 3306, to: 172.17.0.5:3306}]}\n")
        #expect(topology.json(.masquerade) == """
            {
              "nat": {
                "masquerade": [
                  {
                    "source": "172.17.0.0/16",
                    "out": "eth0"
                  }
                ]
              }
            }

            """)
        var bare = topology
        bare.overlay = nil
        #expect(bare.yaml(.peer) == "{}\n")
        #expect(bare.json(.overlay) == "{}\n")
    }

    @Test func namesThatAreNotPlainWordsAreQuoted() throws {
        let yaml = """
            node: "n#1"
            ports: [{name: "-x"}, {name: "y:"}, {name: "null"}, {name: "a,b"}]
            """
        let topology = try Topology.parse(yaml: yaml, file: "q.yaml")
        #expect(try Topology.parse(yaml: topology.yaml(), file: "get.yaml") == topology, "\(topology.yaml())")
        #expect(try Topology.parse(yaml: topology.json(), file: "get.json") == topology, "\(topology.json())")
    }
}
