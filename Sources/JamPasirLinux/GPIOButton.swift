import CJamPasirSystem
import Foundation
import JamPasirCore
import JamPasirHardware
import JamPasirPosix
import Logging

/// The start/stop button on a GPIO line. A dedicated thread sleeps in `poll()` on the line's
/// event fd, so nothing wakes while nobody presses; each edge goes out with the kernel's
/// CLOCK_MONOTONIC timestamp, untouched. If the line cannot be had (chip missing, busy,
/// permission), the reason is logged once and the request retried in the background.
public final class GPIOButton: ButtonInput {
    public struct Settings: Sendable {
        public var line: GPIOLineSpec
        public var activeLow: Bool
        public var bias: LineBiasSetting
        /// Asked of the kernel where the API has it (libgpiod v2); software debounce stays on.
        public var kernelDebounce: Duration
        /// Which of the counter's buttons this is; its edges say so.
        public var button: CounterButton

        public init(
            line: GPIOLineSpec, activeLow: Bool, bias: LineBiasSetting, kernelDebounce: Duration,
            button: CounterButton = .service
        ) {
            self.button = button
            self.line = line
            self.activeLow = activeLow
            self.bias = bias
            self.kernelDebounce = kernelDebounce
        }
    }

    private let settings: Settings
    private let logger: Logger
    /// Rung by `stop()`; the button's thread sleeps on it and on the line.
    private let stopBell = Doorbell()

    public init(_ settings: Settings, logger: Logger) {
        self.settings = settings
        self.logger = logger
    }

    public func start(edge: @escaping @Sendable (ButtonEdge) -> Void, gone: @escaping @Sendable () -> Void) {
        let settings = settings
        let logger = logger
        let stop = stopBell
        startThread(named: "jp-button") { Self.serve(settings, report: edge, stop: stop, logger: logger) }
    }

    public func stop() {
        stopBell.ring()
    }

    private static func serve(
        _ settings: Settings, report: @Sendable (ButtonEdge) -> Void, stop: Doorbell, logger: Logger
    ) {
        var backoff = Backoff()
        var lastProblem: String?
        while true {
            let line: GPIOLine
            do {
                line = try GPIOLine.input(
                    settings.line, consumer: "jampasird", bias: settings.bias, edges: true,
                    kernelDebounce: settings.kernelDebounce)
            } catch {
                if error.description != lastProblem {
                    logger.error("button: \(error); retrying in the background")
                    lastProblem = error.description
                }
                let retryAt = MonotonicInstant(nanoseconds: jp_monotonic_ns()) + backoff.delay()
                if stop.wait(readable: -1, until: retryAt) == .rung { return }
                continue
            }
            if lastProblem != nil { logger.notice("button: \(settings.line) is now available") }
            lastProblem = nil
            backoff.reset()
            logger.info("button on \(settings.line) (\(settings.line.key)), libgpiod \(GPIOLine.libraryVersion)")
            // A button already held at start-up is reported, so stuck-button detection sees it.
            if let level = try? line.value(), level != settings.activeLow {
                report(ButtonEdge(.pressed, at: MonotonicInstant(nanoseconds: jp_monotonic_ns()), button: settings.button))
            }
            if !forwardEdges(from: line, settings: settings, report: report, stop: stop, logger: logger) { return }
        }
    }

    /// Returns false when asked to stop, true when the line failed and should be requested again.
    private static func forwardEdges(
        from line: GPIOLine, settings: Settings, report: @Sendable (ButtonEdge) -> Void, stop: Doorbell, logger: Logger
    ) -> Bool {
        while true {
            switch stop.wait(readable: line.eventDescriptor) {
            case .rung: return false
            case .failed(let error):
                logger.error("\(SystemError("button: poll failed", code: error)); requesting the line again")
                return true
            case .readable, .deadline: break
            }
            do {
                let event = try line.readEvent()
                let pressed = event.rising != settings.activeLow
                report(
                    ButtonEdge(
                        pressed ? .pressed : .released, at: MonotonicInstant(nanoseconds: event.timestampNs),
                        button: settings.button))
            } catch {
                logger.error("button: \(settings.line): \(error); requesting the line again")
                return true
            }
        }
    }
}
