import Crypto
import Foundation
import JamPasirPosix

/// Which sticks may receive an export: those carrying `JAMPASIR/export.key` whose content hashes
/// to one of the configured `export.authorized_keys` (the device stores hashes only). The key
/// file is read without following links, and only up to 1 KiB whatever size the filesystem
/// claims; nothing else on a stick is read.
public enum ExportAuthorization {
    public static let directoryName = "JAMPASIR"
    public static let keyFileName = "export.key"

    public struct Failure: Error, Equatable, CustomStringConvertible {
        public var description: String
        public init(description: String) { self.description = description }
    }

    /// A new random key: 32 bytes, base64url.
    public static func newKey() -> String {
        var generator = SystemRandomNumberGenerator()
        let bytes = (0..<32).map { _ in UInt8.random(in: 0...255, using: &generator) }
        return Data(bytes).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }

    /// `sha256:<hex>` of the key file's content, surrounding whitespace ignored.
    public static func fingerprint(of contents: Data) -> String {
        let trimmed = String(decoding: contents, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)
        return "sha256:" + SHA256.hash(data: Data(trimmed.utf8)).map { String(format: "%02x", $0) }.joined()
    }

    package static func isValidFingerprint(_ text: String) -> Bool {
        text.hasPrefix("sha256:") && text.count == 71 && text.dropFirst(7).allSatisfy(\.isHexDigit)
    }

    /// Whether the key file's content is one of the authorised keys (compared in constant time).
    public static func isAuthorized(_ contents: Data, allowed: [String]) -> Bool {
        let candidate = Array(fingerprint(of: contents).utf8)
        var match = false
        for entry in allowed {
            let expected = Array(entry.lowercased().utf8)
            guard expected.count == candidate.count else { continue }
            var difference: UInt8 = 0
            for (a, b) in zip(expected, candidate) { difference |= a ^ b }
            match = match || difference == 0
        }
        return match
    }

    /// Reads `<mountPoint>/JAMPASIR/export.key`: a regular file, no links followed, ≤ 1 KiB.
    public static func readKeyFile(mountPoint: String) throws(Failure) -> Data {
        let directory = open(mountPoint + "/" + directoryName, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
        guard directory >= 0 else {
            throw errno == ELOOP || errno == ENOTDIR
                ? Failure(description: "\(directoryName) on the stick is not a plain directory")
                : openFailure("\(directoryName)/\(keyFileName)", errno: errno)
        }
        defer { close(directory) }
        return try readKeyFile(in: directory, named: keyFileName)
    }

    /// The largest key file read: a key is 43 characters, with room for whitespace and comments.
    public static let keyFileLimit = 1024

    /// Reads the key file `name` in the open directory `directory`: a regular file, no links
    /// followed, at most `keyFileLimit` bytes. Its size is what `read` returns, never `st_size`:
    /// a crafted filesystem can report any size, a negative one too.
    static func readKeyFile(in directory: Int32, named name: String) throws(Failure) -> Data {
        let shownName = "\(directoryName)/\(name)"
        let fd = openat(directory, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else {
            throw errno == ELOOP
                ? Failure(description: "\(shownName) is a symbolic link") : openFailure(shownName, errno: errno)
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG else {
            throw Failure(description: "\(shownName) is not a regular file")
        }
        // One byte more than allowed tells a file at the limit from a longer one.
        guard let contents = readAtMost(keyFileLimit + 1, from: fd) else {
            throw Failure(description: SystemError("cannot read \(shownName)").description)
        }
        guard contents.count <= keyFileLimit else {
            throw Failure(description: "\(shownName) is too large to be a key")
        }
        return contents
    }

    /// A key that is not there, or a stick the kernel cannot read (a corrupt filesystem).
    private static func openFailure(_ shownName: String, errno code: Int32) -> Failure {
        code == ENOENT
            ? Failure(description: "no \(shownName) on the stick")
            : Failure(
                description:
                    "\(SystemError("cannot open \(shownName)", code: code)); the stick may be damaged: check it on a computer")
    }

    /// Up to `limit` bytes from `fd`, into a buffer of that size; nil on a read error.
    static func readAtMost(_ limit: Int, from fd: Int32) -> Data? {
        var buffer = [UInt8](repeating: 0, count: limit)
        var count = 0
        while count < limit {
            let result = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress! + count, limit - count) }
            if result == 0 { break }
            if result < 0 {
                if errno == EINTR { continue }
                return nil
            }
            count += result
        }
        return Data(buffer[..<count])
    }
}
