import Crypto
import Foundation

/// Which sticks may receive an export: those carrying `JAMPASIR/export.key` whose content hashes
/// to one of the configured `export.authorized_keys` (the device stores hashes only). The key
/// file is read without following links, and only up to 1 KiB; nothing else on a stick is read.
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

    public static func isValidFingerprint(_ text: String) -> Bool {
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
            throw Failure(
                description: errno == ELOOP || errno == ENOTDIR
                    ? "\(directoryName) on the stick is not a plain directory"
                    : "no \(directoryName)/\(keyFileName) on the stick")
        }
        defer { close(directory) }
        let fd = openat(directory, keyFileName, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else {
            throw Failure(
                description: errno == ELOOP
                    ? "\(directoryName)/\(keyFileName) is a symbolic link"
                    : "no \(directoryName)/\(keyFileName) on the stick")
        }
        defer { close(fd) }
        var info = stat()
        guard fstat(fd, &info) == 0, info.st_mode & S_IFMT == S_IFREG else {
            throw Failure(description: "\(directoryName)/\(keyFileName) is not a regular file")
        }
        guard info.st_size <= 1024 else {
            throw Failure(description: "\(directoryName)/\(keyFileName) is too large to be a key")
        }
        var buffer = [UInt8](repeating: 0, count: Int(info.st_size))
        let count = read(fd, &buffer, buffer.count)
        guard count == buffer.count else { throw Failure(description: "cannot read \(directoryName)/\(keyFileName)") }
        return Data(buffer)
    }
}
