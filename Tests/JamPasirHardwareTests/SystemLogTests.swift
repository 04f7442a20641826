import Logging
import Testing

@testable import JamPasirPosix

@Suite("Log lines under systemd carry their priority")
struct SystemLogTests {
    func event(_ level: Logger.Level, _ message: Logger.Message, _ metadata: Logger.Metadata? = nil) -> LogEvent {
        LogEvent(
            level: level, message: message, metadata: metadata, source: "JamPasirDaemon", file: #fileID,
            function: #function, line: #line)
    }

    @Test(arguments: [
        (Logger.Level.critical, "<2>"), (.error, "<3>"), (.warning, "<4>"), (.notice, "<5>"), (.info, "<6>"),
        (.debug, "<7>"), (.trace, "<7>"),
    ])
    func eachLevelHasItsSyslogPriority(level: Logger.Level, prefix: String) {
        #expect(JournalLogHandler.line(for: event(level, "x"), metadata: [:]) == "\(prefix)[JamPasirDaemon] x")
    }

    @Test func metadataIsSortedAndANewlineCannotStartAnUnprefixedEntry() {
        let line = JournalLogHandler.line(
            for: event(.warning, "GPIO chip \"a\nb\" not found", ["key": "button.chip"]), metadata: ["counter": "3"])
        #expect(line == "<4>[JamPasirDaemon] GPIO chip \"a\\nb\" not found counter=3 key=button.chip")
        #expect(!line.contains("\n"))
    }
}
