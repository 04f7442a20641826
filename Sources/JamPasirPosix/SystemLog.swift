import Glibc
import Logging

/// Where the daemons' log lines go. Under systemd (`JOURNAL_STREAM` set: stderr is connected to
/// journald) each line starts with its syslog priority, `<4>` for a warning (sd-daemon(3)), so
/// that `journalctl -u jampasird -p warning` shows exactly the warnings; journald adds the time.
/// Elsewhere lines go to stderr as swift-log's stream handler writes them.
public enum SystemLog {
    public static let underJournal = environmentValue("JOURNAL_STREAM") != nil

    /// Installs the process's log handler (once, at start).
    public static func bootstrap(level: Logger.Level = .info) {
        LoggingSystem.bootstrap { label in handler(label: label, level: level) }
    }

    public static func handler(label: String, level: Logger.Level) -> any LogHandler {
        if underJournal { return JournalLogHandler(label: label, logLevel: level) }
        var handler = StreamLogHandler.standardError(label: label)
        handler.logLevel = level
        return handler
    }

    /// A last line before the process exits (a configuration error), at error priority.
    public static func fatal(_ line: String) {
        writeStandardError((underJournal ? "<3>" : "") + line + "\n")
    }

    /// One write(2) per line: lines the kernel writes whole never interleave with another thread's.
    static func writeStandardError(_ text: String) {
        let bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { write(2, $0.baseAddress! + offset, $0.count - offset) }
            if written < 0 && errno == EINTR { continue }
            guard written > 0 else {
                // End the broken line, or journald would join the next one to it under its priority.
                if offset > 0 { _ = write(2, "\n", 1) }
                return
            }
            offset += written
        }
    }

    /// ` key=value …`: the handler's and the event's metadata (the event's win), sorted by key;
    /// "" when there is none. Every log handler of the project writes it so.
    public static func details(_ metadata: Logger.Metadata, _ event: LogEvent) -> String {
        metadata.merging(event.metadata ?? [:]) { $1 }.sorted { $0.key < $1.key }.map { " \($0.key)=\($0.value)" }.joined()
    }

    /// syslog(3) priorities: emerg 0 … debug 7.
    static func priority(_ level: Logger.Level) -> Int {
        switch level {
        case .trace, .debug: 7
        case .info: 6
        case .notice: 5
        case .warning: 4
        case .error: 3
        case .critical: 2
        }
    }
}

/// One line per event, priority prefix first: `<4>[JamPasirDaemon] message key=value`.
public struct JournalLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level
    let label: String

    public init(label: String, logLevel: Logger.Level) {
        self.label = label
        self.logLevel = logLevel
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        SystemLog.writeStandardError(Self.line(for: event, metadata: metadata) + "\n")
    }

    static func line(for event: LogEvent, metadata: Logger.Metadata) -> String {
        let details = SystemLog.details(metadata, event)
        // A message never spans lines in the journal: a newline would start an unprefixed entry.
        let text = "[\(event.source)] \(event.message)\(details)".replacing("\n", with: "\\n")
        return "<\(SystemLog.priority(event.level))>\(text)"
    }
}
