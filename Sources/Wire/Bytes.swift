// Network byte order in one place: every multi-byte field of every header is read and written
// through these helpers, and nothing else in Wire says `bigEndian`.
//
// The loads are unchecked. A view calls them only after its `init(validating:)` has checked
// every offset the accessors use (STYLE.md, principle 2), and debug builds assert the bound
// anyway. Measured reason: the checked `RawSpan` loads cost about 4x in the decode loop of
// `pier bench decode`, where every header is read through these helpers.

extension RawSpan {
    /// The byte at `offset`.
    @inlinable @inline(__always)
    public func u8(at offset: Int) -> UInt8 {
        assert(offset >= 0 && offset < byteCount, "u8 at \(offset) outside \(byteCount) bytes")
        return unsafeLoad(fromUncheckedByteOffset: offset, as: UInt8.self)
    }

    /// The big-endian 16-bit value at `offset`.
    @inlinable @inline(__always)
    public func u16(at offset: Int) -> UInt16 {
        assert(offset >= 0 && offset + 2 <= byteCount, "u16 at \(offset) outside \(byteCount) bytes")
        return UInt16(bigEndian: unsafeLoadUnaligned(fromUncheckedByteOffset: offset, as: UInt16.self))
    }

    /// The big-endian 32-bit value at `offset`.
    @inlinable @inline(__always)
    public func u32(at offset: Int) -> UInt32 {
        assert(offset >= 0 && offset + 4 <= byteCount, "u32 at \(offset) outside \(byteCount) bytes")
        return UInt32(bigEndian: unsafeLoadUnaligned(fromUncheckedByteOffset: offset, as: UInt32.self))
    }

    /// The big-endian 48-bit value at `offset` (a MAC address), in the low bits of a `UInt64`.
    @inlinable @inline(__always)
    public func u48(at offset: Int) -> UInt64 {
        UInt64(u16(at: offset)) << 32 | UInt64(u32(at: offset + 2))
    }

    /// The big-endian 64-bit value at `offset`.
    @inlinable @inline(__always)
    public func u64(at offset: Int) -> UInt64 {
        assert(offset >= 0 && offset + 8 <= byteCount, "u64 at \(offset) outside \(byteCount) bytes")
        return UInt64(bigEndian: unsafeLoadUnaligned(fromUncheckedByteOffset: offset, as: UInt64.self))
    }

    /// The bytes from `offset` to the end, or `count` of them when given; bounds-checked.
    @inlinable
    @_lifetime(copy self)
    public func slice(from offset: Int, count: Int? = nil) -> RawSpan {
        let count = count ?? (byteCount - offset)
        return extracting(offset..<(offset + count))
    }
}

extension MutableRawSpan {
    /// Writes `value` at `offset`.
    @inlinable @inline(__always)
    @_lifetime(self: copy self)
    public mutating func setU8(_ value: UInt8, at offset: Int) {
        storeBytes(of: value, toByteOffset: offset, as: UInt8.self)
    }

    /// Writes `value` big-endian at `offset`.
    @inlinable @inline(__always)
    @_lifetime(self: copy self)
    public mutating func setU16(_ value: UInt16, at offset: Int) {
        storeBytes(of: value.bigEndian, toByteOffset: offset, as: UInt16.self)
    }

    /// Writes `value` big-endian at `offset`.
    @inlinable @inline(__always)
    @_lifetime(self: copy self)
    public mutating func setU32(_ value: UInt32, at offset: Int) {
        storeBytes(of: value.bigEndian, toByteOffset: offset, as: UInt32.self)
    }

    /// Writes the low 48 bits of `value` big-endian at `offset` (a MAC address).
    @inlinable @inline(__always)
    @_lifetime(self: copy self)
    public mutating func setU48(_ value: UInt64, at offset: Int) {
        setU16(UInt16(truncatingIfNeeded: value >> 32), at: offset)
        setU32(UInt32(truncatingIfNeeded: value), at: offset + 2)
    }

    /// Writes `value` big-endian at `offset`.
    @inlinable @inline(__always)
    @_lifetime(self: copy self)
    public mutating func setU64(_ value: UInt64, at offset: Int) {
        storeBytes(of: value.bigEndian, toByteOffset: offset, as: UInt64.self)
    }

    /// Copies `bytes` to `offset`.
    @inlinable
    @_lifetime(self: copy self)
    public mutating func setBytes(_ bytes: RawSpan, at offset: Int) {
        precondition(offset >= 0 && offset + bytes.byteCount <= byteCount, "copy outside the span")
        bytes.withUnsafeBytes { source in
            withUnsafeMutableBytes { target in
                guard let base = source.baseAddress, let to = target.baseAddress else { return }
                (to + offset).copyMemory(from: base, byteCount: source.count)
            }
        }
    }

    /// The bytes from `offset` to the end, writable; `self` is borrowed until the result's last use.
    @inlinable
    @_lifetime(&self)
    public mutating func mutableSlice(from offset: Int) -> MutableRawSpan {
        _mutatingExtracting(droppingFirst: offset)
    }

    /// Sets `count` bytes from `offset` to zero.
    @inlinable
    @_lifetime(self: copy self)
    public mutating func zero(from offset: Int, count: Int) {
        precondition(offset >= 0 && offset + count <= byteCount, "zeroing outside the span")
        withUnsafeMutableBytes { target in
            guard let to = target.baseAddress else { return }
            (to + offset).initializeMemory(as: UInt8.self, repeating: 0, count: count)
        }
    }
}

extension Array where Element == UInt8 {
    /// Calls `body` with the array's bytes as a writable span (for emitting reprs into a
    /// buffer built in tests, benchmarks and generators).
    @inlinable
    public mutating func withMutableRawSpan<R>(_ body: (inout MutableRawSpan) -> R) -> R {
        var elements = mutableSpan
        var bytes = elements.mutableBytes
        return body(&bytes)
    }
}
