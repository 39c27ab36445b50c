/// How `pier switch` opens its TAP devices: `--offload`, `--tunnel-gso` and `--gro`, kept
/// together because ports added while it runs (`pier apply`, the CNI plugin) open the same way.
struct TapOptions: Sendable {
    /// Devices pass TSO segments and partial checksums (`--offload`).
    var offloads = false
    /// An overlay's uplink is asked for UDP-tunnel GSO (`--tunnel-gso auto`).
    var tunnelGSO = true
    /// Writes join consecutive TCP segments of a flow into one super-frame (`--gro on`).
    var coalesce = true
}
