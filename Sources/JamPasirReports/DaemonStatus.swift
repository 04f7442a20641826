import Foundation

/// What the running daemon knows about its parts, in `status.json` in its runtime directory
/// (`$RUNTIME_DIRECTORY` under systemd, else `/run/jampasir`), for `jampasir doctor`. Here,
/// below both, so that the command line reads it without depending on the daemon.
public struct DaemonStatus: Codable, Equatable, Sendable {
    public var pid: Int32
    public var updatedAt: String
    public var displayKind: String
    /// `ok`, `starting` or `failing`.
    public var display: String
    public var displayProblem: String?

    enum CodingKeys: String, CodingKey {
        case pid, display
        case updatedAt = "updated_at"
        case displayKind = "display_kind"
        case displayProblem = "display_problem"
    }

    public static var path: String {
        let directory = ProcessInfo.processInfo.environment["RUNTIME_DIRECTORY"]?.split(separator: ":").first.map(
            String.init)
        return (directory ?? "/run/jampasir") + "/status.json"
    }

    public static func read(from path: String = DaemonStatus.path) -> DaemonStatus? {
        guard let data = FileManager.default.contents(atPath: path) else { return nil }
        return try? JSONDecoder().decode(DaemonStatus.self, from: data)
    }

    /// Whether the process that wrote this is still running.
    public var isCurrent: Bool { kill(pid, 0) == 0 || errno == EPERM }

    /// `display`: `ok`, `starting` or `failing`, with the problem when failing.
    public init(displayKind: String, display: String, problem: String? = nil) {
        pid = getpid()
        updatedAt = Timestamp.iso8601(Date())
        self.displayKind = displayKind
        self.display = display
        displayProblem = problem
    }

    /// Written atomically; a daemon without a writable runtime directory just has no status file.
    public func write(to path: String = DaemonStatus.path) {
        guard FileManager.default.fileExists(atPath: (path as NSString).deletingLastPathComponent),
            let data = try? JSONEncoder().encode(self),
            let file = try? AtomicFile(path: path)
        else { return }
        try? file.write(String(decoding: data, as: UTF8.self))
        try? file.commit()
    }
}
