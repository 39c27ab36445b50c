import Wire

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// The two addresses of one direction of an IPv6 flow.
public struct AddressPair6: Sendable, Equatable {
    /// The source address.
    public var source: IPv6Address
    /// The destination address.
    public var destination: IPv6Address

    /// Makes a pair.
    @inlinable
    public init(source: IPv6Address, destination: IPv6Address) {
        self.source = source
        self.destination = destination
    }

    /// The pair of the packets flowing the other way.
    @inlinable public var reversed: AddressPair6 { AddressPair6(source: destination, destination: source) }
}

/// The full addresses of an IPv6 connection's original and reply keys (its `FlowKey`s hold
/// only their hashes).
public struct ConnectionAddresses6: Sendable, Equatable {
    /// The addresses of the first packet, as it arrived.
    public var original: AddressPair6
    /// The addresses replies arrive with (after NAT, the translated ones).
    public var reply: AddressPair6

    /// The addresses of `direction`.
    @inlinable public func pair(_ direction: FlowDirection) -> AddressPair6 { direction == .original ? original : reply }
}

// IPv6 connections share the table and its index with IPv4 ones; their full addresses live in
// a second array beside the records, 64 bytes a connection, made at the first IPv6 connection.
extension ConntrackTable {
    /// The full addresses of the IPv6 connection at `index`.
    @inline(__always)
    public func addresses6(at index: Int) -> ConnectionAddresses6 {
        guard let storage = addresses6Storage else { preconditionFailure("no IPv6 connection has been made") }
        return storage[index]
    }

    /// Adds an IPv6 connection (keys made by `FlowKey(source:destination:…)` from `addresses`);
    /// returns its record index, or nil when the table is full or either key is taken, by
    /// another connection or by one whose addresses hash alike.
    public func insert(original: FlowKey, reply: FlowKey, addresses: ConnectionAddresses6, expires: Int64) -> Int? {
        if addresses6Storage == nil {
            guard let memory = calloc(capacity, MemoryLayout<ConnectionAddresses6>.stride) else {
                fatalError("conntrack table: out of memory")
            }
            addresses6Storage = memory.bindMemory(to: ConnectionAddresses6.self, capacity: capacity)
        }
        guard let index = insert(original: original, reply: reply, expires: expires), let storage = addresses6Storage else { return nil }
        storage[index] = addresses
        return index
    }

    /// The IPv6 connection `key` with addresses `pair` belongs to, and which way; nil when
    /// there is none, it expired before `now` (then it is removed), or the connection found
    /// under the key has other addresses (a hash alike).
    @inline(__always)
    func find(_ key: FlowKey, addresses pair: AddressPair6, tag: UInt32, now: Int64) -> Hit? {
        guard let hit = find(key, tag: tag, now: now), addresses6(at: hit.index).pair(hit.direction) == pair else { return nil }
        return hit
    }
}
