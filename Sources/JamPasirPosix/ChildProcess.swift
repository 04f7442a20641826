import CJamPasirSystem
import Glibc

/// A short helper program run to its end (NUT's `upsc`, every few seconds for months): no shell,
/// standard input from /dev/null, its output and its errors read to a bound, killed if it
/// outlives `timeout`. It starts with an empty signal mask and default dispositions, whatever
/// the calling thread blocks (the daemon blocks SIGTERM everywhere), and every descriptor made
/// for it is closed again before `run` returns: nothing leaks, however often it runs.
public enum ChildProcess {
    public struct Result: Equatable, Sendable {
        /// The exit status, or 128 plus the signal that ended it.
        public var status: Int32
        public var output: String
        public var errors: String
        /// Killed for outliving its time.
        public var timedOut: Bool
    }

    public static func run(_ path: String, arguments: [String], timeout: Duration, limit: Int = 65_536)
        throws(SystemError) -> Result
    {
        // Asked first: where the spawn cannot report a failed exec (qemu-user's vfork), a program
        // that is not there would otherwise look like one that exited 127.
        guard access(path, X_OK) == 0 else { throw SystemError("run \(path)") }
        var output: [Int32] = [-1, -1]
        var errors: [Int32] = [-1, -1]
        guard jp_pipe_cloexec(&output) == 0 else { throw SystemError("pipe for \(path)") }
        guard jp_pipe_cloexec(&errors) == 0 else {
            let failure = SystemError("pipe for \(path)")
            close(output[0])
            close(output[1])
            throw failure
        }
        let argv: [UnsafeMutablePointer<CChar>?] = ([path] + arguments).map { strdup($0) } + [nil]
        defer { for argument in argv { free(argument) } }
        var pid: Int32 = 0
        let spawned = jp_spawn(path, argv, output[1], errors[1], &pid)
        close(output[1])
        close(errors[1])
        var open = [output[0], errors[0]]
        defer { for fd in open where fd >= 0 { close(fd) } }
        guard spawned == 0 else { throw SystemError("run \(path)", code: spawned) }

        let deadline = jp_monotonic_ns() + timeout.components.seconds * 1_000_000_000
            + timeout.components.attoseconds / 1_000_000_000
        var read: [[UInt8]] = [[], []]
        var timedOut = false
        var chunk = [UInt8](repeating: 0, count: 4096)
        while open.contains(where: { $0 >= 0 }) {
            let left = deadline - jp_monotonic_ns()
            if left <= 0 {
                timedOut = true
                break
            }
            var fds = open.map { pollfd(fd: $0, events: Int16(POLLIN), revents: 0) }  // -1: ignored
            if poll(&fds, nfds_t(fds.count), Int32(min(left / 1_000_000 + 1, 1000))) < 0 {
                if errno == EINTR { continue }
                timedOut = true
                break
            }
            for index in fds.indices where fds[index].revents != 0 {
                let count = chunk.withUnsafeMutableBytes { Glibc.read(open[index], $0.baseAddress, $0.count) }
                if count > 0 {
                    // Beyond the bound it is drained and dropped, so the program never blocks on it.
                    read[index] += chunk[..<min(count, max(0, limit - read[index].count))]
                } else if count == 0 || (errno != EINTR && errno != EAGAIN) {
                    close(open[index])
                    open[index] = -1
                }
            }
        }
        if timedOut { kill(pid, SIGKILL) }
        var status: Int32 = 0
        while true {
            let reaped = waitpid(pid, &status, timedOut ? 0 : WNOHANG)
            if reaped == pid { break }
            if reaped < 0 {
                if errno == EINTR { continue }
                throw SystemError("wait for \(path)")
            }
            // Its output closed but it runs on: it has until the deadline like the rest.
            if jp_monotonic_ns() >= deadline {
                kill(pid, SIGKILL)
                timedOut = true
            } else {
                usleep(5_000)
            }
        }
        let signal = status & 0x7F
        return Result(
            status: signal == 0 ? (status >> 8) & 0xFF : 128 + signal,
            output: String(decoding: read[0], as: UTF8.self), errors: String(decoding: read[1], as: UTF8.self),
            timedOut: timedOut)
    }
}
