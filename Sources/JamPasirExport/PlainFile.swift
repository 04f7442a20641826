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
        let name = (path as NSString).lastPathComponent
        let fd = open(path, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else {
            let error = errno
            if error == ELOOP { throw Refused(description: "\(name) is a symbolic link: an export holds plain files only") }
            throw Refused(description: SystemError("cannot open \(name)", code: error).description)
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, (info.st_mode & S_IFMT) == S_IFREG else {
            throw Refused(description: "\(name) is not a plain file: an export holds plain files only")
        }
        let size = Int(info.st_size)
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
        var extra: UInt8 = 0
        guard Foundation.read(fd, &extra, 1) == 0 else {
            throw Refused(description: "\(name) grew while it was read")
        }
        return data
    }
}
