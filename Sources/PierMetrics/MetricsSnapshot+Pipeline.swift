import Dataplane

extension MetricsSnapshot {
    /// The snapshot of `pipeline` now, with the ports in `portsUp` shown up and the others
    /// down. Call it on the thread that runs the pipeline (the live switch's loop), between
    /// batches, with the pipeline's clock brought up to date (the FDB and conntrack counts leave
    /// out what has aged out by it). It copies the counters and counts the tables: once a
    /// second, not per packet. A port number left empty by a removed port is left out. `devices`
    /// gives, by port name, what live ports' devices did.
    public init(pipeline: Pipeline, portsUp: Set<PortID>, devices: [String: [DeviceEvent: Int]] = [:]) {
        let counters = pipeline.counters
        let ports = zip(pipeline.config.ports, counters.ports).enumerated().map { index, port in
            let (config, counts) = port
            return Port(name: config.name, received: Traffic(frames: counts.framesIn, bytes: counts.bytesIn),
                        sent: Traffic(frames: counts.framesOut, bytes: counts.bytesOut),
                        isUp: portsUp.contains(PortID(rawValue: UInt16(index))), device: devices[config.name] ?? [:])
        }.filter { !$0.name.isEmpty }  // the number of a port a change removed: no port there now
        self.init(ports: ports, drops: counters.drops, events: counters.events,
                  conntrackEntries: pipeline.liveConnectionCount,
                  bridges: pipeline.fdbEntries().map { Bridge(name: $0.bridge, fdbEntries: $0.entries.count) })
    }
}
