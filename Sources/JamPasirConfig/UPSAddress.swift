/// A UPS as NUT's clients name it: `NAME`, `NAME@HOST` or `NAME@HOST:PORT` (upsd's port 3493
/// by default, the local upsd by default).
public struct UPSAddress: Equatable, Sendable, CustomStringConvertible {
    public var name: String
    public var host: String
    public var port: UInt16

    public init?(_ text: String) {
        let parts = text.split(separator: "@", maxSplits: 1, omittingEmptySubsequences: false)
        let name = String(parts[0])
        var host = "localhost"
        var port: UInt16 = 3493
        if parts.count == 2 {
            let hostPort = parts[1].split(separator: ":", omittingEmptySubsequences: false)
            guard hostPort.count <= 2, let parsedHost = hostPort.first.map(String.init) else { return nil }
            host = parsedHost
            if hostPort.count == 2 {
                let digits = hostPort[1]
                guard digits.allSatisfy(\.isASCII), digits.allSatisfy(\.isNumber), !digits.hasPrefix("0"),
                    let parsed = UInt16(digits)
                else { return nil }
                port = parsed
            }
        }
        // NUT's names: letters, digits, '-', '_', '.'; the host a DNS name or an IPv4 address,
        // each label between dots non-empty and neither starting nor ending with '-' (no IPv6).
        let nameBytes = name.utf8
        let labels = host.split(separator: ".", omittingEmptySubsequences: false)
        guard (1...64).contains(nameBytes.count), !name.hasPrefix("-"), nameBytes.allSatisfy({ Self.isNameByte($0) }),
            Configuration.isDNSName(host),
            labels.allSatisfy({ !$0.isEmpty && !$0.hasPrefix("-") && !$0.hasSuffix("-") })
        else { return nil }
        self.name = name
        self.host = host
        self.port = port
    }

    private static func isNameByte(_ byte: UInt8) -> Bool {
        (48...57).contains(byte) || (65...90).contains(byte) || (97...122).contains(byte) || "-_.".utf8.contains(byte)
    }

    /// As `upsc` takes it: `kit@localhost:3493`.
    public var description: String { "\(name)@\(host):\(port)" }
}
