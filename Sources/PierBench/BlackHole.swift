/// Keeps `value` alive so the optimizer cannot drop the work that produced it. (Package
/// access: the Benchmarks suites have the Benchmark library's own `blackHole`.)
@inline(never)
package func blackHole(_ value: Int) {
    if value == Int.min { print("") }
}
