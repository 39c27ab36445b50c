// swift-tools-version:6.1
// Pier's stage benchmarks (ordo-one/benchmark), kept apart from the main package so that
// `swift build` and CI do not build the benchmark harness. Run: `make bench`, or
// `swift package benchmark` in this directory.
import Foundation
import PackageDescription

/// SwiftPM names a path dependency after its directory, so the main package's identity is
/// wherever this checkout lives (`main`, `pier`, a CI clone's name), lowercased.
let pier = URL(fileURLWithPath: Context.packageDirectory).deletingLastPathComponent().lastPathComponent.lowercased()

let package = Package(
    name: "PierBenchmarks",
    dependencies: [
        .package(path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        .executableTarget(
            name: "Decode",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "Wire", package: pier),
                .product(name: "Dataplane", package: pier),
            ],
            path: "Benchmarks/Decode",
            swiftSettings: [.enableExperimentalFeature("Lifetimes")],
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]),
        .executableTarget(
            name: "Bridge",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "Wire", package: pier),
                .product(name: "Dataplane", package: pier),
            ],
            path: "Benchmarks/Bridge",
            swiftSettings: [.enableExperimentalFeature("Lifetimes")],
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]),
        .executableTarget(
            name: "Route",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "Wire", package: pier),
                .product(name: "Dataplane", package: pier),
            ],
            path: "Benchmarks/Route",
            swiftSettings: [.enableExperimentalFeature("Lifetimes")],
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]),
        .executableTarget(
            name: "Conntrack",
            dependencies: [
                .product(name: "Benchmark", package: "benchmark"),
                .product(name: "Wire", package: pier),
                .product(name: "Dataplane", package: pier),
            ],
            path: "Benchmarks/Conntrack",
            swiftSettings: [.enableExperimentalFeature("Lifetimes")],
            plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")]),
    ]
)
