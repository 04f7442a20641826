import Foundation
import JamPasirPosix

/// Writes a file so that it is either complete or absent, even across a power cut: a temporary
/// name in the same directory, fsync, rename over the final name, fsync the directory.
/// Writes are buffered, so a large export runs in constant memory.
public final class AtomicFile {
    public struct Failure: Error, CustomStringConvertible {
        public var path: String
        public var operation: String
        public var errno: Int32
        public var description: String {
            "\(SystemError("cannot \(operation) \(path)", code: errno)). Check that the directory exists, is writable and has space"
        }
    }

    public let path: String
    private let temporaryPath: String
    private let fd: Int32
    private var buffer: [UInt8] = []
    private var finished = false
    public private(set) var bytesWritten = 0

    /// `mode` is set exactly, whatever the umask (a file other users must read).
    public init(path: String, mode: mode_t? = nil) throws(Failure) {
        self.path = path
        let url = URL(fileURLWithPath: path)
        temporaryPath =
            url.deletingLastPathComponent().appendingPathComponent(".\(url.lastPathComponent).tmp-\(getpid())").path
        fd = open(temporaryPath, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0o644)
        if fd < 0 { throw Failure(path: temporaryPath, operation: "create", errno: errno) }
        // (deinit closes and removes the temporary file)
        if let mode, fchmod(fd, mode) != 0 {
            throw Failure(path: temporaryPath, operation: "set the mode of", errno: errno)
        }
        buffer.reserveCapacity(1 << 16)
    }

    deinit {
        if !finished {
            close(fd)
            unlink(temporaryPath)
        }
    }

    public func write(_ text: String) throws(Failure) {
        try write(bytes: text.utf8)
    }

    public func write(bytes: some Sequence<UInt8>) throws(Failure) {
        buffer.append(contentsOf: bytes)
        if buffer.count >= 1 << 16 { try flush() }
    }

    /// Makes the file durable under its final name.
    public func commit() throws(Failure) {
        try flush()
        if fsync(fd) != 0 { throw Failure(path: temporaryPath, operation: "sync", errno: errno) }
        close(fd)
        finished = true
        if rename(temporaryPath, path) != 0 {
            let error = errno
            unlink(temporaryPath)
            throw Failure(path: path, operation: "rename into", errno: error)
        }
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        let dirfd = open(directory, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if dirfd >= 0 {
            defer { close(dirfd) }
            if fsync(dirfd) != 0 { throw Failure(path: directory, operation: "sync directory", errno: errno) }
        }
    }

    private func flush() throws(Failure) {
        var offset = 0
        while offset < buffer.count {
            let n = buffer[offset...].withUnsafeBytes { Foundation.write(fd, $0.baseAddress, $0.count) }
            if n < 0 {
                if errno == EINTR { continue }
                throw Failure(path: temporaryPath, operation: "write", errno: errno)
            }
            offset += n
        }
        bytesWritten += buffer.count
        buffer.removeAll(keepingCapacity: true)
    }
}
