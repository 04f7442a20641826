import Foundation
import JamPasirPosix
import JamPasirTerminal
import Logging

/// In the simulator, log lines go to the bottom of the screen instead of scrolling it away.
public struct ScreenLogHandler: LogHandler {
    public var metadata: Logger.Metadata = [:]
    public var logLevel: Logger.Level
    let screen: TerminalScreen

    public init(screen: TerminalScreen, level: Logger.Level) {
        self.screen = screen
        self.logLevel = level
    }

    public subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    public func log(event: LogEvent) {
        let details = SystemLog.details(metadata, event)
        let time = Date().formatted(.iso8601.time(includingFractionalSeconds: false))
        screen.log("\(time) \(event.level) \(event.message)\(details)")
    }
}
