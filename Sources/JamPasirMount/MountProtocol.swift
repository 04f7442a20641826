/// The line protocol between the timing daemon and `jampasir-mountd`: one request per
/// connection, one reply line. Plain text so a technician can talk to it with `socat`.
///
///     mount /dev/sdb1                      → ok /run/jampasir-media/sdb1
///     remount-rw /run/jampasir-media/sdb1  → ok /run/jampasir-media/sdb1
///     unmount /run/jampasir-media/sdb1     → ok /run/jampasir-media/sdb1
///     (anything failing)                   → error <what happened>
public enum MountRequest: Equatable, Sendable {
    case mount(devnode: String)
    case remountReadWrite(mountPoint: String)
    case unmount(mountPoint: String)

    /// Requests longer than this are refused unread.
    public static let maximumLength = 512

    public init?(line: String) {
        let words = line.split(separator: " ", omittingEmptySubsequences: true).map(String.init)
        guard words.count == 2, line.utf8.count <= Self.maximumLength else { return nil }
        switch words[0] {
        case "mount": self = .mount(devnode: words[1])
        case "remount-rw": self = .remountReadWrite(mountPoint: words[1])
        case "unmount": self = .unmount(mountPoint: words[1])
        default: return nil
        }
    }

    public var line: String {
        switch self {
        case .mount(let devnode): "mount \(devnode)"
        case .remountReadWrite(let mountPoint): "remount-rw \(mountPoint)"
        case .unmount(let mountPoint): "unmount \(mountPoint)"
        }
    }
}

public enum MountReply: Equatable, Sendable {
    case ok(String)
    case failed(String)

    public init(line: String) {
        if line.hasPrefix("ok ") {
            self = .ok(String(line.dropFirst(3)))
        } else if line.hasPrefix("error ") {
            self = .failed(String(line.dropFirst(6)))
        } else {
            self = .failed("unexpected reply from jampasir-mountd: \(line.prefix(80))")
        }
    }

    /// One line: newlines in messages are flattened.
    public var line: String {
        switch self {
        case .ok(let text): "ok " + text.replacing("\n", with: " ")
        case .failed(let text): "error " + text.replacing("\n", with: " ")
        }
    }
}
