// swift-tools-version:6.1
// Pier's stage benchmarks (ordo-one/benchmark), kept apart from the main package so that
// `swift build` and CI do not build the benchmark harness. Run: `make bench`, or
// `swift package benchmark` in this directory.
import Foundation
import PackageDescription

/// SwiftPM names a path dependency after its directory, so the main package's identity is
/// wherever this checkout lives (`main`, `pier`, a CI clone's name), lowercased.
let pier = URL(fileURLWithPath: Context.packageDirectory).deletingLastPathComponent().lastPathComponent.lowercased()

/// One benchmark executable per stage, its sources in Benchmarks/NAME.
func stageBenchmark(_ name: String) -> Target {
    .executableTarget(
        name: name,
        dependencies: [
            .product(name: "Benchmark", package: "benchmark"),
            "BenchmarkDefaults",
            .product(name: "PierBench", package: pier),
        ],
        path: "Benchmarks/\(name)",
        swiftSettings: [.enableExperimentalFeature("Lifetimes")],
        plugins: [.plugin(name: "BenchmarkPlugin", package: "benchmark")])
}

let package = Package(
    name: "PierBenchmarks",
    dependencies: [
        .package(path: ".."),
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
    ],
    targets: [
        // The configuration the stage benchmarks share.
        .target(
            name: "BenchmarkDefaults",
            dependencies: [.product(name: "Benchmark", package: "benchmark")],
            path: "Shared/BenchmarkDefaults"),
    ] + ["Decode", "Bridge", "Route", "Conntrack"].map(stageBenchmark)
)
