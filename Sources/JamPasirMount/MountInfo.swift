/// The mounts the kernel lists in `/proc/self/mountinfo`: how a restarted `jampasir-mountd`
/// finds the sticks it had mounted before.
public struct MountInfo: Equatable, Sendable {
    public var source: String
    public var mountPoint: String
    public var filesystem: String

    public init(source: String, mountPoint: String, filesystem: String) {
        self.source = source
        self.mountPoint = mountPoint
        self.filesystem = filesystem
    }

    /// Every well-formed line of a mountinfo file:
    /// `36 35 98:0 / /run/jampasir-media/sdb1 rw,nosuid master:1 - vfat /dev/sdb1 rw,uid=998`.
    public static func parse(_ text: String) -> [MountInfo] {
        text.split(separator: "\n").compactMap { line in
            let fields = line.split(separator: " ").map(String.init)
            guard fields.count >= 5, let separator = fields.firstIndex(of: "-"), separator >= 6,
                fields.count >= separator + 3
            else { return nil }
            return MountInfo(
                source: unescape(fields[separator + 2]), mountPoint: unescape(fields[4]),
                filesystem: unescape(fields[separator + 1]))
        }
    }

    /// The kernel writes space, tab, newline and backslash in paths as `\040`, `\011`, `\012`, `\134`.
    static func unescape(_ field: String) -> String {
        let bytes = Array(field.utf8)
        var result: [UInt8] = []
        var index = 0
        while index < bytes.count {
            if bytes[index] == UInt8(ascii: "\\"),
                let value = octal(bytes[(index + 1)..<min(index + 4, bytes.count)])
            {
                result.append(value)
                index += 4
            } else {
                result.append(bytes[index])
                index += 1
            }
        }
        return String(decoding: result, as: UTF8.self)
    }

    /// Three octal digits, as a byte.
    static func octal(_ digits: ArraySlice<UInt8>) -> UInt8? {
        guard digits.count == 3, digits.allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "7") }) else {
            return nil
        }
        return UInt8(exactly: digits.reduce(0) { $0 * 8 + Int($1 - UInt8(ascii: "0")) })
    }
}
