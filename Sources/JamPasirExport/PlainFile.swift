import Foundation
import JamPasirPosix

/// Reads a file from somewhere hostile (a stick from the waiting room): a regular file only,
/// never through a link, never blocking on a FIFO or device, never more than `limit` bytes,
/// and exactly the size it had when opened.
public enum PlainFile {
    public struct Refused: Error, CustomStringConvertible {
        public var description: String
    }

    public static func read(_ path: String, limit: Int) throws(Refused) -> Data {
        let (fd, name, size) = try openPlain(path)
        defer { close(fd) }
        guard size <= limit else {
            throw Refused(description: "\(name) is \(size) bytes, more than an export's \(limit)")
        }
        var data = Data(count: size)
        var done = 0
        while done < size {
            let n = data.withUnsafeMutableBytes { Foundation.read(fd, $0.baseAddress! + done, size - done) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw Refused(description: "\(name) changed or could not be read while it was read") }
            done += n
        }
        try expectEnd(fd, name)
        return data
    }

    /// The same checks, the file handed over in pieces of at most 64 KiB as they are read (for
    /// hashing, copying or parsing in bounded memory): exactly `size` bytes, or refused before
    /// any is read.
    public static func stream(_ path: String, size expected: Int, _ piece: (UnsafeRawBufferPointer) throws -> Void) throws {
        let (fd, name, size) = try openPlain(path)
        defer { close(fd) }
        guard size == expected else { throw Refused(description: "\(name): \(size) bytes, manifest says \(expected)") }
        let buffer = UnsafeMutableRawBufferPointer.allocate(byteCount: 64 << 10, alignment: 16)
        defer { buffer.deallocate() }
        var done = 0
        while done < size {
            let n = Foundation.read(fd, buffer.baseAddress!, min(buffer.count, size - done))
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw Refused(description: "\(name) changed or could not be read while it was read") }
            try piece(UnsafeRawBufferPointer(rebasing: buffer[0..<n]))
            done += n
        }
        try expectEnd(fd, name)
    }

    /// Opens a plain file without following a link or blocking: its descriptor, name and size.
    private static func openPlain(_ path: String) throws(Refused) -> (fd: Int32, name: String, size: Int) {
        let name = (path as NSString).lastPathComponent
        let fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else {
            let error = errno
            if error == ELOOP { throw Refused(description: "\(name) is a symbolic link: an export holds plain files only") }
            if error == ENOENT { throw Refused(description: "\(name) is missing") }
            throw Refused(description: SystemError("cannot open \(name)", code: error).description)
        }
        var info = stat()
        guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else {
            close(fd)
            throw Refused(description: "\(name) is not a plain file: an export holds plain files only")
        }
        return (fd, name, Int(info.st_size))
    }

    private static func expectEnd(_ fd: Int32, _ name: String) throws(Refused) {
        var extra: UInt8 = 0
        guard Foundation.read(fd, &extra, 1) == 0 else {
            throw Refused(description: "\(name) grew while it was read")
        }
    }
}
