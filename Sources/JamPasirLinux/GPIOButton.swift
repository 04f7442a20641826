import CJamPasirSystem
import Foundation
import JamPasirCore
import JamPasirHardware
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

        public init(line: GPIOLineSpec, activeLow: Bool, bias: LineBiasSetting, kernelDebounce: Duration) {
            self.line = line
            self.activeLow = activeLow
            self.bias = bias
            self.kernelDebounce = kernelDebounce
        }
    }

    private let settings: Settings
    private let logger: Logger
    /// Written by `stop()`; the button's thread polls it beside the line. Open for the process's life.
    private let stopPipe: (read: Int32, write: Int32)

    public init(_ settings: Settings, logger: Logger) {
        self.settings = settings
        self.logger = logger
        var ends: [Int32] = [-1, -1]
        _ = pipe(&ends)
        stopPipe = (ends[0], ends[1])
    }

    public func start(edge: @escaping @Sendable (ButtonEdge) -> Void, gone: @escaping @Sendable () -> Void) {
        let settings = settings
        let logger = logger
        let stop = stopPipe
        startThread(named: "jp-button") { Self.serve(settings, report: edge, stop: stop.read, logger: logger) }
    }

    public func stop() {
        var byte: UInt8 = 1
        _ = write(stopPipe.write, &byte, 1)
    }

    private static func serve(
        _ settings: Settings, report: @Sendable (ButtonEdge) -> Void, stop: Int32, logger: Logger
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
                if waitForStop(stop, timeout: backoff.delay()) { return }
                continue
            }
            if lastProblem != nil { logger.notice("button: \(settings.line) is now available") }
            lastProblem = nil
            backoff.reset()
            logger.info("button on \(settings.line) (\(settings.line.key)), libgpiod \(GPIOLine.libraryVersion)")
            // A button already held at start-up is reported, so stuck-button detection sees it.
            if let level = try? line.value(), level != settings.activeLow {
                report(ButtonEdge(.pressed, at: MonotonicInstant(nanoseconds: jp_monotonic_ns())))
            }
            if !forwardEdges(from: line, settings: settings, report: report, stop: stop, logger: logger) { return }
        }
    }

    /// Returns false when asked to stop, true when the line failed and should be requested again.
    private static func forwardEdges(
        from line: GPIOLine, settings: Settings, report: @Sendable (ButtonEdge) -> Void, stop: Int32, logger: Logger
    ) -> Bool {
        var fds = [
            pollfd(fd: line.eventDescriptor, events: Int16(POLLIN), revents: 0),
            pollfd(fd: stop, events: Int16(POLLIN), revents: 0),
        ]
        while true {
            let ready = poll(&fds, 2, -1)
            if ready < 0 {
                if errno == EINTR { continue }
                logger.error("button: poll failed: \(String(cString: strerror(errno)))")
                return true
            }
            if fds[1].revents != 0 { return false }
            if fds[0].revents & Int16(POLLERR | POLLHUP | POLLNVAL) != 0 {
                logger.error("button: \(settings.line) went away; requesting it again")
                return true
            }
            do {
                let event = try line.readEvent()
                let pressed = event.rising != settings.activeLow
                report(ButtonEdge(pressed ? .pressed : .released, at: MonotonicInstant(nanoseconds: event.timestampNs)))
            } catch {
                logger.error("button: \(error); requesting the line again")
                return true
            }
        }
    }

    /// Sleeps up to `timeout`; true if the stop pipe was written meanwhile.
    private static func waitForStop(_ stop: Int32, timeout: Duration) -> Bool {
        var fd = pollfd(fd: stop, events: Int16(POLLIN), revents: 0)
        return poll(&fd, 1, Int32(timeout.nanoseconds / 1_000_000)) > 0
    }
}
