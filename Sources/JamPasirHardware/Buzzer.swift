import JamPasirCore

/// The buzzer. `play` returns at once; the pattern sounds in the background and a newer
/// pattern replaces one still sounding.
public protocol Buzzer: Sendable {
    func play(_ pattern: SoundPattern)
    /// Silence now (shutdown).
    func silence()
}
