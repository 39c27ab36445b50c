import Testing

/// `pier switch --metrics` values that are not `ADDRESS:PORT`: exit 2 with one line saying what
/// is expected, before anything is opened (no root needed).
struct MetricsCLITests {
    @Test(arguments: ["9100", "localhost", "127.0.0.1:99999", "::1:9100"])
    func badMetricsValueExitsTwo(value: String) throws {
        let result = try Tool.pier("switch", "--config", "fixtures/topologies/live-demo.yaml", "--metrics", value)
        #expect(result.status == 2, "\(result)")
        #expect(result.errorLines.count == 1 && result.errorLines.first?.contains("--metrics \(value): ") == true, "\(result)")
    }
}
