import Foundation
import JamPasirExport
import Synchronization

/// Which signed calls the hub carries out: from a key of the office's counters, for that key's
/// own counter, once, and only while the counter still waits for the answer. A call that waited
/// behind anything on the hub longer than that is refused, so the hall never announces a ticket
/// to a counter that showed `Err2`.
public final class CallGate: Sendable {
    /// How far the clocks of the hub and a counter (both on the office's NTP) may differ. A call
    /// is carried out only while `SignedCall.deadline` less this has not passed by its own time:
    /// with clocks within `skew`, never after the counter gave up.
    public static let skew: Int64 = 1000
    static var lifetimeMs: Int64 { SignedCall.deadline.components.seconds * 1000 - skew }
    /// Calls remembered at most (the office's counters call about once a minute each).
    static let remembered = 4096

    private let trusted: TrustedSigners
    /// Call id → its time, for the calls still within their lifetime.
    private let seen = Mutex<[String: Int64]>([:])

    public init(trusted: TrustedSigners) { self.trusted = trusted }

    public struct Refusal: Error, Equatable, CustomStringConvertible {
        /// The answer's word: `forbidden`, `stale`, `replayed`, `busy`.
        public var result: String
        public var description: String
    }

    /// Admits `call` at `nowMs` (the hub's clock), or says why not. `counters`: the names the
    /// hub's store knows each key by (the first name its exports carried).
    public func admit(_ call: SignedCall, nowMs: Int64, counters: [(publicKey: String, counterID: String)])
        throws(Refusal)
    {
        let fingerprint = TrustedSigners.fingerprint(of: call.publicKey) ?? "?"
        guard trusted.trusts(call.publicKey) else {
            throw Refusal(
                result: "forbidden",
                description:
                    "key \(fingerprint) is not one of the office's counters: add its public key (jampasird logs it at start) to export.trusted_keys of the hub's configuration"
            )
        }
        if let own = counters.first(where: { $0.publicKey == call.publicKey })?.counterID {
            guard own == call.counterID else {
                throw Refusal(result: "forbidden", description: "key \(fingerprint) is counter \(own)'s: it cannot call for \(call.counterID)")
            }
        } else if counters.contains(where: { $0.counterID == call.counterID }) {
            throw Refusal(
                result: "forbidden", description: "\(call.counterID) is another key's counter: key \(fingerprint) cannot call for it")
        }
        let age = nowMs - call.issuedAtMs
        guard age >= -Self.skew else {
            throw Refusal(
                result: "stale",
                description:
                    "the call is \(Self.seconds(-age)) s ahead of the hub's clock: check time synchronisation on the counter and the hub (timedatectl)"
            )
        }
        guard age <= Self.lifetimeMs else {
            throw Refusal(
                result: "stale",
                description:
                    "the call is \(Self.seconds(age)) s old: its counter has given up on it (or the clocks differ: check timedatectl on both)"
            )
        }
        try seen.withLock { (seen: inout [String: Int64]) throws(Refusal) in
            seen = seen.filter { nowMs - $0.value <= Self.lifetimeMs + Self.skew }
            guard seen[call.callID] == nil else {
                throw Refusal(result: "replayed", description: "call \(call.callID) was carried out already: each call is taken once")
            }
            guard seen.count < Self.remembered else {
                throw Refusal(result: "busy", description: "more than \(Self.remembered) calls within \(Self.lifetimeMs / 1000) s")
            }
            seen[call.callID] = call.issuedAtMs
        }
    }

    static func seconds(_ ms: Int64) -> String { String(format: "%.1f", Double(ms) / 1000) }
}
