import Foundation

/// Which names a request's `Host` may give the hub. A browser sends the name it resolved: a page
/// whose own name was re-pointed at the hub (DNS rebinding) names itself, and is refused. An
/// address (`192.168.1.10`, `[fe80::1]`) cannot be re-pointed, so every address is taken; names
/// are `localhost`, the machine's host name, `HOSTNAME.local` (mDNS) and `hub.names`. A request
/// without `Host` comes from no browser (HTTP/1.0 tools) and is taken.
public struct HostCheck: Sendable {
    public var allowed: Set<String>

    public init(hostName: String = ProcessInfo.processInfo.hostName, names: [String] = []) {
        let full = hostName.lowercased()
        let short = full.split(separator: ".").first.map(String.init) ?? full
        allowed = Set(["localhost", full, short, short + ".local"] + names.map { Self.name(of: $0) })
    }

    public func accepts(_ host: String) -> Bool {
        let name = Self.name(of: host)
        return Self.isAddress(name) || allowed.contains(name)
    }

    /// What a refusal says the hub answers to.
    public var names: String { "it answers to its addresses and " + allowed.sorted().joined(separator: ", ") + " (hub.names)" }

    /// The host of a `Host` value, lower-case, without its port or a final dot (`[::1]:8790` →
    /// `[::1]`, `Hub.Local.:8790` → `hub.local`).
    static func name(of host: String) -> String {
        let lower = host.lowercased()
        if lower.hasPrefix("[") { return lower.firstIndex(of: "]").map { String(lower[...$0]) } ?? lower }
        let name = lower.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
        return String(name.hasSuffix(".") ? name.dropLast() : name)
    }

    static func isAddress(_ name: String) -> Bool {
        var v4 = in_addr()
        var v6 = in6_addr()
        if name.hasPrefix("[") && name.hasSuffix("]") { return inet_pton(AF_INET6, String(name.dropFirst().dropLast()), &v6) == 1 }
        return inet_pton(AF_INET, name, &v4) == 1
    }

    /// The hub's own Prometheus, where the wallboard is served: `http://HOST:9090`, HOST as the
    /// request named the hub.
    static func wallboard(servedWith host: String) -> String { "http://\(name(of: host)):9090" }
}
