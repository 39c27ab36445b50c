/// The live switch's counters line, printed every `interval` seconds (0: only at the end):
/// `stats: c1 up rx 10 tx 12, c2 down rx 0 tx 0 tx-down 3` (`down`: closed; `link-down`:
/// open, its device down; the error and super-frame counters only when not zero: `rx-super`,
/// `tx-super` super-frames read and written whole, `tx-segmented` those Pier segmented,
/// `tx-coalesced` super-frames Pier joined from TCP segments).
struct StatsLine {
    /// Seconds between lines; 0 for none while running.
    let interval: Int
    private var ticks = 0

    /// Prints every `interval` seconds.
    init(interval: Int) {
        self.interval = interval
    }

    /// Counts a second; true when a line is due.
    mutating func tick() -> Bool {
        ticks += 1
        return interval > 0 && ticks % interval == 0
    }

    /// The line for `ports`, in their order.
    static func text<Port: LivePort>(_ ports: [Port]) -> String {
        "stats: " + ports.map { port in
            let c = port.counters
            var text = "\(port.name) \(port.isUp ? (port.linkDown ? "link-down" : "up") : "down") rx \(c.received) tx \(c.sent)"
            if c.sendBlocked > 0 { text += " tx-blocked \(c.sendBlocked)" }
            if c.sendWhileDown > 0 { text += " tx-down \(c.sendWhileDown)" }
            if c.offloadRefused > 0 { text += " offload-refused \(c.offloadRefused)" }
            if c.superFramesReceived > 0 { text += " rx-super \(c.superFramesReceived)" }
            if c.superFramesSent > 0 { text += " tx-super \(c.superFramesSent)" }
            if c.superFramesSegmented > 0 { text += " tx-segmented \(c.superFramesSegmented)" }
            if c.coalescedSent > 0 { text += " tx-coalesced \(c.coalescedSent)" }
            if c.errors > 0 { text += " errors \(c.errors)" }
            return text
        }.joined(separator: ", ")
    }
}
