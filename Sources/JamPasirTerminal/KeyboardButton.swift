import CJamPasirSystem
import Foundation
import JamPasirCore
import JamPasirHardware
import JamPasirPosix

/// The buttons on the keyboard: space or enter is a short press of start/stop, `c` a press held
/// past the long-press time, `p` a press of the call button ("Panggil"), `q` (or end of input)
/// ends the simulator. Edges are stamped on
/// CLOCK_MONOTONIC when the key arrives and when the simulated finger lifts.
public final class KeyboardButton: ButtonInput, @unchecked Sendable {
    private let input: FileHandle
    private let shortHold: Duration
    private let longHold: Duration

    /// `longPress` is the configured long-press time; the simulated hold is a little longer.
    public init(input: FileHandle = .standardInput, longPress: Duration) {
        self.input = input
        self.shortHold = .milliseconds(120)
        self.longHold = longPress + .milliseconds(300)
    }

    public func start(edge: @escaping @Sendable (ButtonEdge) -> Void, gone: @escaping @Sendable () -> Void) {
        let fd = input.fileDescriptor
        let shortHold = shortHold
        let longHold = longHold
        // A plain thread: reading stdin blocks.
        startThread(named: "jp-keys") {
            var byte: UInt8 = 0
            while read(fd, &byte, 1) == 1 {
                var hold = shortHold
                var button = CounterButton.service
                switch byte {
                case UInt8(ascii: " "), UInt8(ascii: "\n"), UInt8(ascii: "\r"): break
                case UInt8(ascii: "c"), UInt8(ascii: "C"): hold = longHold
                case UInt8(ascii: "p"), UInt8(ascii: "P"): button = .call
                case UInt8(ascii: "q"), UInt8(ascii: "Q"):
                    gone()
                    return
                default: continue
                }
                edge(ButtonEdge(.pressed, at: MonotonicInstant(nanoseconds: jp_monotonic_ns()), button: button))
                Thread.sleep(forTimeInterval: Double(hold.nanoseconds) / 1e9)  // the finger on the key
                edge(ButtonEdge(.released, at: MonotonicInstant(nanoseconds: jp_monotonic_ns()), button: button))
            }
            gone()
        }
    }

    /// The reading thread stays blocked in `read` until the process ends.
    public func stop() {}
}

/// Puts a terminal into key-at-a-time mode (no line buffering, no echo) and back.
/// Ctrl-C still sends SIGINT, which stops the daemon cleanly.
public final class RawTerminalMode {
    private var saved = termios()
    private let fd: Int32
    private var active = false

    public init(fd: Int32 = STDIN_FILENO) {
        self.fd = fd
    }

    public func enable() {
        guard isatty(fd) == 1, tcgetattr(fd, &saved) == 0 else { return }
        var raw = saved
        raw.c_lflag &= ~tcflag_t(ICANON | ECHO)
        tcsetattr(fd, TCSANOW, &raw)
        active = true
    }

    public func restore() {
        guard active else { return }
        tcsetattr(fd, TCSANOW, &saved)
        active = false
    }
}
