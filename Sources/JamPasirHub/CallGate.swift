import Foundation
import JamPasirExport
import Synchronization

/// Which signed calls the hub carries out: from a key of the office's counters, for that key's
/// own counter, once, and only while the counter still waits for the answer. A call that waited
/// behind anything on the hub longer than that is refused, so the hall never announces a ticket
/// to a counter that showed `Err2`.
public final class CallGate: Sendable {
    /// How far the clocks of the hub and a counter (both on the office's NTP) may differ. A call
    /// is carried out only while `SignedCall.deadline`, less this and `margin` for the hub's own
    /// work after admitting it, has not passed by its own time: with clocks within `skew`,
    /// never after the counter gave up.
    public static let skew: Int64 = 1000
    static let margin: Int64 = 500
    static var lifetimeMs: Int64 { SignedCall.deadline.components.seconds * 1000 - skew - margin }
    /// A step back of the hub's clock by more than this is taken as the clock set right.
    static let believedStepBack: Int64 = 60_000
    /// Calls remembered at most (the office's counters call about once a minute each).
    static let remembered = 4096

    private let trusted: TrustedSigners
    /// Call id → its time, for the calls still within their lifetime; and the latest time the
    /// hub's clock gave, which a step back of the clock does not lower (a call forgotten as too
    /// old never becomes new again).
    private let seen = Mutex<(calls: [String: Int64], latest: Int64)>(([:], 0))

    public init(trusted: TrustedSigners) { self.trusted = trusted }

    public struct Refusal: Error, Equatable, CustomStringConvertible {
        /// The answer's word: `forbidden`, `stale`, `replayed`, `busy`.
        public var result: String
        public var description: String
    }

    /// Admits `call` at `nowMs` (the hub's clock), or says why not. `counter`: the counter the
    /// call's key is (the name its first export carried; nil: it has brought none yet).
    public func admit(_ call: SignedCall, nowMs: Int64, counter: String?) throws(Refusal) {
        let fingerprint = TrustedSigners.fingerprint(of: call.publicKey) ?? "?"
        guard trusted.trusts(call.publicKey) else {
            throw Refusal(
                result: "forbidden",
                description:
                    "key \(fingerprint) is not one of the office's counters: add its public key (jampasird logs it at start) to export.trusted_keys of the hub's configuration"
            )
        }
        guard let counter else {
            throw Refusal(
                result: "forbidden",
                description:
                    "key \(fingerprint) has brought no export to this hub yet: a counter is known by its exports (run jampasir push on the counter once)"
            )
        }
        guard counter == call.counterID else {
            throw Refusal(
                result: "forbidden",
                description:
                    "key \(fingerprint) is counter \(counter)'s (its first export): it cannot call for \(call.counterID); a renamed counter keeps its first name at the hub"
            )
        }
        try seen.withLock { (seen: inout (calls: [String: Int64], latest: Int64)) throws(Refusal) in
            // A clock stepped back more than a minute is believed (set right after a boot with
            // a wrong one, say): the hub does not refuse every call until it catches up.
            if nowMs < seen.latest - Self.believedStepBack { seen.latest = nowMs }
            if nowMs < seen.latest - Self.skew {
                throw Refusal(
                    result: "stale",
                    description:
                        "the hub's clock stepped back by \(Self.seconds(seen.latest - nowMs)) s: calls are taken again once it is past the time it had (within a minute)"
                )
            }
            seen.latest = max(seen.latest, nowMs)
            let age = seen.latest - call.issuedAtMs
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
            let latest = seen.latest
            seen.calls = seen.calls.filter { latest - $0.value <= Self.lifetimeMs + Self.skew }
            guard seen.calls[call.callID] == nil else {
                throw Refusal(result: "replayed", description: "call \(call.callID) was taken already: each call is taken once")
            }
            guard seen.calls.count < Self.remembered else {
                throw Refusal(result: "busy", description: "more than \(Self.remembered) calls within \(Self.seconds(Self.lifetimeMs)) s")
            }
            seen.calls[call.callID] = call.issuedAtMs
        }
    }

    static func seconds(_ ms: Int64) -> String { String(format: "%.1f", Double(ms) / 1000) }
}
