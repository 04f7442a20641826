/// A buzzer pattern, named for what it tells the officer. The tones are defined here, once,
/// so the real buzzer, the simulator and the tests agree on them.
public enum SoundPattern: String, CaseIterable, Equatable, Sendable {
    case start
    case stop
    case warning
    case limitReached
    case cancel
    case fault
    /// A USB export is complete and the stick unmounted: safe to remove.
    case exportDone
    /// A stick without an authorised key: nothing was written.
    case refused
    /// The kit's power changed for the worse (onto its battery, or too low for a session).
    case powerWorse

    /// One tone and the silence after it.
    public struct Tone: Equatable, Sendable {
        public var on: Duration
        public var off: Duration
    }

    public var tones: [Tone] {
        func beep(_ onMs: Int, _ offMs: Int = 0) -> Tone { Tone(on: .milliseconds(onMs), off: .milliseconds(offMs)) }
        switch self {
        case .start, .stop: return [beep(80)]
        case .warning: return [beep(60, 90), beep(60)]
        case .limitReached: return [beep(1200)]
        case .cancel: return [beep(250, 120), beep(250)]
        case .fault: return [beep(100, 100), beep(100, 100), beep(100)]
        case .exportDone: return [beep(60, 60), beep(60, 60), beep(400)]
        case .refused: return [beep(700)]
        case .powerWorse: return [beep(40, 160), beep(40)]
        }
    }
}
