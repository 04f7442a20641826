extension Sequence<UInt8> {
    /// Lower-case hexadecimal, as SHA-256 digests appear in manifests and the store.
    public var hexString: String {
        map { byte in
            let digits = String(byte, radix: 16)
            return byte < 16 ? "0" + digits : digits
        }.joined()
    }
}
