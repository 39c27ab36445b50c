// swift-tools-version:6.1
// Pier: a userspace packet-processing dataplane for container networking.
// Module layout: docs/DESIGN.md ("Modules").
import PackageDescription

/// Settings every Pier module shares: Swift 6 language mode and the lifetime
/// annotations that the zero-copy header views need.
let common: [SwiftSetting] = [
    .enableExperimentalFeature("Lifetimes"),
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "Pier",
    products: [
        .executable(name: "pier", targets: ["pier"]),
        .executable(name: "PierFuzz", targets: ["PierFuzz"]),
        .library(name: "Wire", targets: ["Wire"]),
        .library(name: "Dataplane", targets: ["Dataplane"]),
        .library(name: "PierMetrics", targets: ["PierMetrics"]),
        .library(name: "PacketIO", targets: ["PacketIO"]),
        .library(name: "Inspect", targets: ["Inspect"]),
        .library(name: "Topology", targets: ["Topology"]),
        .library(name: "PierBench", targets: ["PierBench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
    ],
    targets: [
        .target(name: "Wire", swiftSettings: common),
        .target(name: "CPierSupport"),
        // The stages keep their state in final classes; Swift's dynamic exclusivity checks
        // on those properties cost a third of the switch benchmark's instructions
        // (callgrind), so the dataplane module is built without them. Static checks remain.
        .target(name: "Dataplane", dependencies: ["Wire", "CPierSupport"],
                swiftSettings: common + [.unsafeFlags(["-enforce-exclusivity=unchecked"])]),
        .target(name: "Topology", dependencies: ["Wire", "Dataplane", "Yams"], swiftSettings: common),
        // `pier switch --metrics`: the Prometheus registry and text format from swift-prometheus,
        // served over HTTP by SwiftNIO, from a snapshot the loop publishes once a second.
        .target(name: "PierMetrics",
                dependencies: ["Dataplane",
                               .product(name: "Prometheus", package: "swift-prometheus"),
                               .product(name: "NIOCore", package: "swift-nio"),
                               .product(name: "NIOPosix", package: "swift-nio"),
                               .product(name: "NIOHTTP1", package: "swift-nio")],
                swiftSettings: common),
        // `overlay.etcd`: flannel's subnet leases in etcd, through etcd's v3 JSON gateway
        // spoken by async-http-client, off the packet loop.
        .target(name: "EtcdDiscovery",
                dependencies: ["Topology", "Wire",
                               .product(name: "AsyncHTTPClient", package: "async-http-client"),
                               .product(name: "NIOCore", package: "swift-nio"),
                               .product(name: "Logging", package: "swift-log")],
                swiftSettings: common),
        .systemLibrary(name: "CPcap", pkgConfig: "libpcap", providers: [.apt(["libpcap-dev"])]),
        .target(name: "CAllocCounter"),
        .target(name: "CTap"),
        // `pier switch --io uring`: a batch's reads and writes in one io_uring_enter (liburing).
        .target(name: "CUring", linkerSettings: [.linkedLibrary("uring")]),
        // The capture reader, merger and writer are final classes touched once per frame; their
        // dynamic exclusivity checks were 7 % of a routed replay's instructions (callgrind).
        .target(name: "PacketIO", dependencies: ["Dataplane", "CPcap", "CTap", "CUring"],
                swiftSettings: common + [.unsafeFlags(["-enforce-exclusivity=unchecked"])]),
        .target(name: "Inspect", dependencies: ["Wire"], swiftSettings: common),
        // Benchmark scaffolding, not part of the dataplane: the workloads `pier bench` and the
        // Benchmarks package both run, synthetic frames and topologies, and the measurers of
        // `pier bench`. Its workloads are final classes touched per frame, like the stages, so it
        // is built without dynamic exclusivity checks too.
        .target(name: "PierBench", dependencies: ["Wire", "Dataplane"],
                swiftSettings: common + [.unsafeFlags(["-enforce-exclusivity=unchecked"])]),
        .executableTarget(
            name: "pier",
            dependencies: [
                "Wire", "Dataplane", "PacketIO", "Inspect", "Topology", "PierBench", "CAllocCounter", "CTap",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                "PierMetrics", "EtcdDiscovery",
            ],
            swiftSettings: common),
        .executableTarget(name: "PierFuzz", dependencies: ["Wire", "Inspect", "Dataplane", "PierBench"], swiftSettings: common),
        // What the test targets share: a pipeline harness after SwiftNIO's EmbeddedChannel,
        // packet builders, and the golden scenario runner (Tests/PierTestSupport/README.md).
        // Its packet builders build TCP segments with PierBench's SyntheticFrames.
        .target(name: "PierTestSupport", dependencies: ["Dataplane", "Wire", "Topology", "PierBench"], path: "Tests/PierTestSupport",
                swiftSettings: common),
        .testTarget(name: "WireTests", dependencies: ["Wire"], swiftSettings: common),
        .testTarget(name: "DataplaneTests", dependencies: ["Dataplane", "Wire", "Topology", "PierTestSupport", "PierBench"],
                    swiftSettings: common),
        .testTarget(name: "PacketIOTests", dependencies: ["PacketIO", "PierBench"], swiftSettings: common),
        .testTarget(name: "TopologyTests", dependencies: ["Topology", "Wire"], swiftSettings: common),
        .testTarget(name: "PierMetricsTests", dependencies: ["PierMetrics", "Dataplane", "Wire", "PierTestSupport"],
                    swiftSettings: common),
        .testTarget(name: "PierTests", dependencies: ["Inspect", "PacketIO", "Wire", "PierTestSupport"], swiftSettings: common),
        .testTarget(name: "EtcdDiscoveryTests", dependencies: ["EtcdDiscovery", "Topology", "Wire", "PierTestSupport"], swiftSettings: common),
    ],
    swiftLanguageModes: [.v6]
)
