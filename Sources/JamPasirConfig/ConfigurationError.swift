/// A configuration problem, worded to name the file, the line and key, and what is allowed.
/// The daemon exits with status 78 (EX_CONFIG) on one.
public struct ConfigurationError: Error, Equatable, CustomStringConvertible {
    public var file: String
    public var line: Int?
    public var key: String?
    public var message: String

    public init(file: String, line: Int? = nil, key: String? = nil, message: String) {
        self.file = file
        self.line = line
        self.key = key
        self.message = message
    }

    public var description: String {
        let place = line.map { "\(file):\($0)" } ?? file
        return key.map { "\(place): \($0): \(message)" } ?? "\(place): \(message)"
    }

    /// EX_CONFIG from sysexits.h: systemd and the technician can tell it from a crash.
    public static let exitStatus: Int32 = 78
}
