import Foundation
import JamPasirCore
import JamPasirHardware
import Synchronization

/// Something that happened at an instant, as a fake saw it.
public struct Stamped<Value: Sendable>: Sendable {
    public var at: MonotonicInstant
    public var value: Value
}

/// A button the test presses: edges at given instants, reported to the loop that started it.
public final class FakeButton: ButtonInput {
    private struct State {
        var edge: (@Sendable (ButtonEdge) -> Void)?
        var gone: (@Sendable () -> Void)?
        var early: [ButtonEdge] = []
        var removed = false
    }
    private let state = Mutex(State())

    public init() {}

    public func start(edge: @escaping @Sendable (ButtonEdge) -> Void, gone: @escaping @Sendable () -> Void) {
        let (early, removed) = state.withLock { state in
            state.edge = edge
            state.gone = gone
            defer { state.early = [] }
            return (state.early, state.removed)
        }
        early.forEach(edge)
        if removed { gone() }
    }

    public func stop() {
        state.withLock { $0.edge = nil; $0.gone = nil }
    }

    /// Reported on the calling thread (kept until `start` when it has not been called yet).
    public func press(at instant: MonotonicInstant, button: CounterButton = .service) {
        report(ButtonEdge(.pressed, at: instant, button: button))
    }
    public func release(at instant: MonotonicInstant, button: CounterButton = .service) {
        report(ButtonEdge(.released, at: instant, button: button))
    }
    /// The button is unplugged for good: the daemon's loop ends.
    public func remove() {
        let gone = state.withLock { state in
            state.removed = true
            return state.gone
        }
        gone?()
    }

    private func report(_ edge: ButtonEdge) {
        let deliver = state.withLock { state in
            if state.edge == nil { state.early.append(edge) }
            return state.edge
        }
        deliver?(edge)
    }
}

/// Appends to a history that keeps at most `limit` entries (the soak test runs for days of
/// virtual time: its fakes keep only the latest).
extension Array {
    mutating func append(_ element: Element, keepingLast limit: Int) {
        append(element)
        if count > limit { removeFirst(count - limit) }
    }
}

/// A display that records every frame with the clock's instant; can be told to fail.
public final class FakeDisplay: SegmentDisplay {
    public struct Unplugged: Error {}
    private let clock: any MonotonicClock
    private let historyLimit: Int
    private let state = Mutex<(frames: [Stamped<SegmentFrame>], failing: Bool)>(([], false))

    public init(clock: any MonotonicClock, historyLimit: Int = .max) {
        self.clock = clock
        self.historyLimit = historyLimit
    }

    public func show(_ segments: SegmentFrame) throws {
        let failing = state.withLock { state in
            if !state.failing {
                state.frames.append(Stamped(at: clock.now(), value: segments), keepingLast: historyLimit)
            }
            return state.failing
        }
        if failing { throw Unplugged() }
    }

    public var failing: Bool {
        get { state.withLock { $0.failing } }
        set { state.withLock { $0.failing = newValue } }
    }

    public var frames: [Stamped<SegmentFrame>] { state.withLock { $0.frames } }

    /// What the display read at the last frame, decoded from its segments.
    public var text: String? { frames.last.map { SegmentDecoder.text($0.value) } }
    public var texts: [String] { frames.map { SegmentDecoder.text($0.value) } }
}

/// Reads segment bits back into characters, for assertions (`FrEE`, `-0:07`).
public enum SegmentDecoder {
    private static let table: [UInt8: Character] = {
        var table: [UInt8: Character] = [:]
        for ch in "0123456789 -_AbCcdEFHLnoPrStUuy" where table[SevenSegmentFont.segments(for: ch)] == nil {
            table[SevenSegmentFont.segments(for: ch)] = ch
        }
        return table
    }()

    public static func text(_ frame: SegmentFrame) -> String {
        DisplayFrame(
            String(frame.digits.prefix(2).map { table[$0] ?? "?" }) + (frame.colon ? ":" : "")
                + String(frame.digits.suffix(2).map { table[$0] ?? "?" })
        ).description
    }
}

/// A buzzer that records each pattern with the clock's instant.
public final class FakeBuzzer: Buzzer {
    private let clock: any MonotonicClock
    private let historyLimit: Int
    private let played = Mutex<[Stamped<SoundPattern>]>([])
    private let silenced = Mutex(0)

    public init(clock: any MonotonicClock, historyLimit: Int = .max) {
        self.clock = clock
        self.historyLimit = historyLimit
    }
    public func play(_ pattern: SoundPattern) {
        played.withLock { $0.append(Stamped(at: clock.now(), value: pattern), keepingLast: historyLimit) }
    }
    public func silence() { silenced.withLock { $0 += 1 } }
    public var patterns: [Stamped<SoundPattern>] { played.withLock { $0 } }
    public var silenceCount: Int { silenced.withLock { $0 } }
}

/// Lights that record each state with the clock's instant.
public final class FakeLights: IndicatorLights {
    private let clock: any MonotonicClock
    private let historyLimit: Int
    private let states = Mutex<[Stamped<LightState>]>([])

    public init(clock: any MonotonicClock, historyLimit: Int = .max) {
        self.clock = clock
        self.historyLimit = historyLimit
    }
    public func set(_ state: LightState) {
        states.withLock { $0.append(Stamped(at: clock.now(), value: state), keepingLast: historyLimit) }
    }
    public var history: [Stamped<LightState>] { states.withLock { $0 } }
}

/// A wall clock at a fixed offset from the manual monotonic clock.
public struct FakeWallClock: WallClock {
    let clock: any MonotonicClock
    let epoch: Date
    public var isSynchronized: Bool

    /// `epoch` is the wall time when the monotonic clock reads zero.
    public init(clock: any MonotonicClock, epoch: Date, synchronized: Bool = true) {
        self.clock = clock
        self.epoch = epoch
        self.isSynchronized = synchronized
    }

    public func now() -> Date {
        epoch.addingTimeInterval(Double(clock.now().nanoseconds) / 1e9)
    }
}
