import Foundation
import JamPasirCore
import JamPasirHardware
import Logging
import Synchronization

/// An output line that is requested on first use and again after a failure (with backoff),
/// logging a problem once. Writes never throw to the caller: a missing LED must not stop
/// the countdown.
final class ReconnectingOutput: Sendable {
    private struct State {
        var line: GPIOLine?
        var retryAt: MonotonicInstant?
        var backoff = Backoff()
        var lastProblem: String?
        var lastValue = false
    }

    let spec: GPIOLineSpec
    private let logger: Logger
    private let state = Mutex(State())

    init(_ spec: GPIOLineSpec, logger: Logger) {
        self.spec = spec
        self.logger = logger
    }

    func set(_ value: Bool, now: MonotonicInstant) {
        state.withLock { state in
            state.lastValue = value
            if state.line == nil {
                if let retryAt = state.retryAt, now < retryAt { return }
                do {
                    state.line = try GPIOLine.output(spec, consumer: "jampasird", initial: value)
                    if state.lastProblem != nil { logger.notice("\(spec.key): \(spec) is now available") }
                    state.lastProblem = nil
                    state.backoff.reset()
                    return
                } catch {
                    note("\(error)", &state, now: now)
                    return
                }
            }
            do {
                try state.line?.set(value)
            } catch {
                state.line = nil
                note("\(error)", &state, now: now)
            }
        }
    }

    private func note(_ problem: String, _ state: inout State, now: MonotonicInstant) {
        if problem != state.lastProblem {
            logger.error("\(spec.key): \(problem); retrying in the background")
            state.lastProblem = problem
        }
        state.retryAt = now + state.backoff.delay()
    }
}

/// An active buzzer (on/off) on a GPIO line, through a transistor. Patterns play on a task;
/// a new pattern replaces one still sounding.
public final class GPIOBuzzer: Buzzer {
    private let output: ReconnectingOutput
    private let clock: @Sendable () -> MonotonicInstant
    private let playing = Mutex<Task<Void, Never>?>(nil)

    public init(_ spec: GPIOLineSpec, clock: @escaping @Sendable () -> MonotonicInstant, logger: Logger) {
        output = ReconnectingOutput(spec, logger: logger)
        self.clock = clock
    }

    public func play(_ pattern: SoundPattern) {
        let output = output
        let clock = clock
        let task = Task {
            for tone in pattern.tones {
                output.set(true, now: clock())
                let heard = (try? await Task.sleep(for: tone.on)) != nil
                output.set(false, now: clock())
                if !heard { return }
                if tone.off > .zero, (try? await Task.sleep(for: tone.off)) == nil { return }
            }
        }
        playing.withLock { current in
            current?.cancel()
            current = task
        }
    }

    public func silence() {
        playing.withLock { $0?.cancel() }
        output.set(false, now: clock())
    }
}

/// Green, amber and red LEDs and the optional sand bar, each on its own GPIO line.
public final class GPIOLights: IndicatorLights {
    private let green: ReconnectingOutput?
    private let amber: ReconnectingOutput?
    private let red: ReconnectingOutput?
    private let sand: [ReconnectingOutput]
    private let clock: @Sendable () -> MonotonicInstant

    public init(
        green: GPIOLineSpec?, amber: GPIOLineSpec?, red: GPIOLineSpec?, sand: [GPIOLineSpec],
        clock: @escaping @Sendable () -> MonotonicInstant, logger: Logger
    ) {
        self.green = green.map { ReconnectingOutput($0, logger: logger) }
        self.amber = amber.map { ReconnectingOutput($0, logger: logger) }
        self.red = red.map { ReconnectingOutput($0, logger: logger) }
        self.sand = sand.map { ReconnectingOutput($0, logger: logger) }
        self.clock = clock
    }

    public func set(_ state: LightState) {
        let now = clock()
        green?.set(state.green, now: now)
        amber?.set(state.amber, now: now)
        red?.set(state.red, now: now)
        for (index, led) in sand.enumerated() {
            led.set(index < Self.litSandLEDs(state.sand, of: sand.count), now: now)
        }
    }

    /// LEDs lit for a remaining fraction: rounded up, so the last LED goes out only at zero.
    public static func litSandLEDs(_ fraction: Double, of count: Int) -> Int {
        Int((fraction * Double(count)).rounded(.up))
    }
}
