import Glibc

/// An `AF_UNIX` address: an absolute path, or (where `abstractAllowed`) an abstract name written
/// `@name` as systemd writes them (`$NOTIFY_SOCKET`).
public struct UnixSocketAddress {
    private var address = sockaddr_un()
    private let length: socklen_t

    public init(_ path: String, abstractAllowed: Bool = false) throws(SystemError) {
        var bytes = Array(path.utf8)
        let abstract = abstractAllowed && bytes.first == UInt8(ascii: "@")
        if abstract {
            bytes[0] = 0
        } else if bytes.first != UInt8(ascii: "/") {
            throw SystemError("socket path \(path) is not absolute", code: EINVAL)
        }
        // A path needs room for its NUL; an abstract name may fill sun_path.
        guard bytes.count + (abstract ? 0 : 1) <= MemoryLayout.size(ofValue: address.sun_path) else {
            throw SystemError("socket path \(path)", code: ENAMETOOLONG)
        }
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: bytes) }
        // A path ends with its NUL; an abstract name is exactly its bytes.
        length = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count + (abstract ? 0 : 1))
    }

    /// Calls `body` with the address as `bind`, `connect` and `sendto` take it.
    public func withSockaddr<Result>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> Result) -> Result {
        withUnsafePointer(to: address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { body($0, length) }
        }
    }
}
