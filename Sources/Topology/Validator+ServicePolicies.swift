/// Services' traffic policies: what the Kubernetes API itself refuses.
extension Validator {
    /// `sessionAffinityConfig` only with `sessionAffinity: ClientIP` (the API's "must not be
    /// set when sessionAffinity is None"); an endpoint's address once per Service.
    mutating func checkServicePolicies() {
        for (index, service) in topology.services.enumerated() {
            if service.affinityTimeout != nil && service.sessionAffinity != .clientIP {
                fail("services[\(index)].sessionAffinityConfig",
                     "must not be set when sessionAffinity is None (expected sessionAffinity: ClientIP with it)")
            }
            guard service.endpoints.count > 1 else { continue }
            var seen = Set<UInt32>()
            for (position, endpoint) in service.endpoints.enumerated() where !seen.insert(endpoint.rawValue).inserted {
                fail("services[\(index)].endpoints[\(position)]", "\(endpoint) is already an endpoint of this service; expected each address once")
            }
        }
    }
}
