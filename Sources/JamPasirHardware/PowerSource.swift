import JamPasirCore

/// Where the kit's power is read: its UPS through NUT (`NUTClient`), or a fake in tests.
public protocol PowerSource: Sendable {
    /// One reading of the UPS. Throws, with what to check, when it cannot be read.
    func read() throws(PowerSourceError) -> PowerReading
}

public struct PowerSourceError: Error, Equatable, CustomStringConvertible {
    public var description: String

    public init(_ description: String) {
        self.description = description
    }
}
