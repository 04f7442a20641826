import Foundation
import JamPasirExport
import JamPasirPosix

/// A counter's export on the wire: one HTTP/1.1 `POST /v1/bundles` whose body is the export
/// folder's files, each as a `NAME LENGTH` line, its bytes and a newline, after the line
/// `JAMPASIR-BUNDLE 1`. Both ends are ours, so the protocol is the least that works through a
/// LAN, and the hub reads it in one pass over the bytes it received, copying nothing: one
/// request per connection, a length, no chunking, no redirects, no keep-alive. What the hub
/// does with it is exactly `jampasir hub import`.
public enum BundleTransfer {
    public static let path = "/v1/bundles"
    static let magic = Data("JAMPASIR-BUNDLE 1\n".utf8)
    /// The largest body the hub takes (a 300,000-session export is about 100 MB).
    public static let maxBody = 256 << 20

    /// An export folder's files as a bundle body (only the names an export has).
    public static func body(ofFolder folder: String) throws -> Data {
        var body = magic
        for name in ExportWriter.fileNames where FileManager.default.fileExists(atPath: folder + "/" + name) {
            let data = try Data(contentsOf: URL(fileURLWithPath: folder + "/" + name))
            body.append(Data("\(name) \(data.count)\n".utf8))
            body.append(data)
            body.append(UInt8(ascii: "\n"))
        }
        return body
    }

    public struct Refused: Error, CustomStringConvertible {
        public var description: String
    }

    /// Writes a bundle body's files into a new folder: only the names an export has, each
    /// once, lengths within the body.
    public static func unpack(_ body: Data, into folder: String) throws(Refused) {
        guard body.starts(with: magic) else {
            throw Refused(description: "the body is not a JamPasir bundle (it must start with JAMPASIR-BUNDLE 1)")
        }
        do {
            try FileManager.default.createDirectory(
                atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            throw Refused(description: "cannot make \(folder): \(error)")
        }
        var position = body.startIndex + magic.count
        var seen = Set<String>()
        while position < body.endIndex {
            guard let newline = body[position...].prefix(64).firstIndex(of: UInt8(ascii: "\n")) else {
                throw Refused(description: "a file's NAME LENGTH line is missing or too long")
            }
            let fields = String(decoding: body[position..<newline], as: UTF8.self).split(separator: " ")
            guard fields.count == 2, let length = Int(fields[1]), length >= 0,
                ExportWriter.fileNames.contains(String(fields[0])), seen.insert(String(fields[0])).inserted
            else { throw Refused(description: "a file is not one an export holds, or comes twice") }
            let start = newline + 1
            guard body.endIndex - start > length, body[start + length] == UInt8(ascii: "\n") else {
                throw Refused(description: "\(fields[0]) is shorter than its length")
            }
            guard FileManager.default.createFile(atPath: folder + "/" + fields[0], contents: body[start..<start + length])
            else { throw Refused(description: "cannot write \(fields[0]) into \(folder)") }
            position = start + length + 1
        }
    }
}

/// IPv4/IPv6 TCP, as little as the counter's side of the bundle transfer and its calls need
/// (the counter links no HTTP library; the hub serves on HummingbirdCore).
package enum TCP {
    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// `host:port` or `[v6]:port` (port 0: any free port, for listening).
    package static func split(_ address: String) -> (host: String, port: String)? {
        if address.hasPrefix("["), let close = address.firstIndex(of: "]") {
            let host = String(address[address.index(after: address.startIndex)..<close])
            let rest = address[address.index(after: close)...]
            guard rest.hasPrefix(":"), let port = UInt16(rest.dropFirst()) else { return nil }
            return (host, String(port))
        }
        guard let colon = address.lastIndex(of: ":"), let port = UInt16(address[address.index(after: colon)...]),
            !address[..<colon].isEmpty, !address[..<colon].contains(":")
        else { return nil }
        return (String(address[..<colon]), String(port))
    }

    /// The addresses `host:port` resolves to (numeric or by name).
    static func resolve(_ address: String) throws(Failure) -> [(family: Int32, address: Data)] {
        guard let (host, port) = split(address) else {
            throw Failure(description: "\(address) is not HOST:PORT (e.g. hub.local:8790 or 192.168.1.10:8790)")
        }
        var hints = addrinfo()
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, port, &hints, &list)
        guard status == 0, let first = list else {
            throw Failure(description: "cannot resolve \(host): \(String(cString: gai_strerror(status)))")
        }
        defer { freeaddrinfo(list) }
        var found: [(Int32, Data)] = []
        var entry: UnsafeMutablePointer<addrinfo>? = first
        while let current = entry {
            found.append((current.pointee.ai_family, Data(bytes: current.pointee.ai_addr, count: Int(current.pointee.ai_addrlen))))
            entry = current.pointee.ai_next
        }
        return found
    }

    /// Sends and receives time out after `seconds` of silence.
    static func setTimeouts(_ fd: Int32, seconds: Int) {
        var limit = timeval(tv_sec: seconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &limit, socklen_t(MemoryLayout<timeval>.size))
    }

    static func sendAll(_ fd: Int32, _ data: Data, deadline: Date) throws(Failure) {
        var sent = 0
        while sent < data.count {
            guard Date() < deadline else { throw Failure(description: "sending took too long") }
            let n = data.withUnsafeBytes { send(fd, $0.baseAddress! + sent, data.count - sent, Int32(MSG_NOSIGNAL)) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw Failure(description: SystemError("sending failed").description) }
            sent += n
        }
    }

    /// Reads until the peer closes; never more than `limit` bytes, never past `deadline` (a
    /// hub, or something posing as one, that trickles cannot hold the counter for long).
    static func receive(_ fd: Int32, limit: Int, deadline: Date) throws(Failure) -> Data {
        var buffer = Data()
        var chunk = [UInt8](repeating: 0, count: 64 << 10)
        while true {
            guard buffer.count <= limit else { throw Failure(description: "more than \(limit) bytes") }
            guard Date() < deadline else { throw Failure(description: "too slow") }
            let n = recv(fd, &chunk, min(chunk.count, limit + 1 - buffer.count), 0)
            if n < 0 && errno == EINTR { continue }
            if n < 0 {
                let failure = SystemError("receiving failed")
                throw Failure(
                    description: failure.code == EAGAIN || failure.code == EWOULDBLOCK ? "timed out" : failure.description)
            }
            if n == 0 { break }
            buffer.append(contentsOf: chunk[0..<n])
        }
        return buffer
    }
}

/// An HTTP/1.1 response's head, as the counter's client reads it: its first line, and where
/// its body starts.
struct HTTPHead {
    var firstLine: [Substring]
    var bodyStart: Data.Index

    static let end = Data("\r\n\r\n".utf8)

    init?(_ data: Data) {
        guard let range = data.range(of: Self.end),
            let text = String(data: data[data.startIndex..<range.lowerBound], encoding: .utf8)
        else { return nil }
        firstLine = (text.components(separatedBy: "\r\n").first ?? "").split(separator: " ", maxSplits: 2)
        bodyStart = range.upperBound
    }
}
