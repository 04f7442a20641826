extension Sequence<UInt8> {
    /// Lower-case hexadecimal, as SHA-256 digests appear in manifests and the store.
    public var hexString: String {
        let digits = Array("0123456789abcdef".utf8)
        var ascii: [UInt8] = []
        ascii.reserveCapacity(underestimatedCount * 2)
        for byte in self {
            ascii.append(digits[Int(byte >> 4)])
            ascii.append(digits[Int(byte & 0x0f)])
        }
        return String(decoding: ascii, as: UTF8.self)
    }
}
