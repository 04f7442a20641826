import Foundation
import JamPasirCore
import JamPasirQueue

/// The counter's side of the call button: `POST /v1/queue/call?counter=ID` to the hub with the
/// queue's token. What the hub says is checked before it reaches the counter's display and
/// store: a ticket label of the queue's own form, or nobody.
public enum QueueCall {
    /// Why a call brought no answer, for the counter's log: what failed and what to check.
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// Whether the hub at `address` would take this counter's calls, without calling anyone: a
    /// call naming no counter is refused for the token first (403) and only then for the
    /// missing counter (400). For `jampasir doctor`.
    public static func check(token: String, hub address: String, seconds: Int = 3) throws(Failure) {
        let status = try post("/v1/queue/call", token: token, hub: address, seconds: seconds).status
        switch status {
        case 400: return
        case 403: throw Failure(description: "hub \(address) refuses this counter's calls: \(sameToken)")
        case 404: throw noQueue(address)
        default: throw Failure(description: "hub \(address) answered \(status) to a call")
        }
    }

    /// Gives up after `seconds`: an officer waits at most that long in front of `CALL`.
    public static func call(counter: String, token: String, hub address: String, seconds: Int = 3)
        throws(Failure) -> CallAnswer
    {
        let reply = try post("/v1/queue/call?counter=\(counter)", token: token, hub: address, seconds: seconds)
        let object = try? JSONSerialization.jsonObject(with: reply.body) as? [String: Any]
        switch reply.status {
        case 200:
            guard let object else { throw Failure(description: "hub \(address) (push.hub) did not answer as a JamPasir hub") }
            guard let ticket = object["ticket"] as? String else { return .nobodyWaiting }
            guard Ticket.isLabel(ticket) else {
                throw Failure(description: "hub \(address) (push.hub) called a ticket that is not one: \(ticket.terminalSafe)")
            }
            return .called(ticket: ticket)
        case 403:
            throw Failure(description: "hub \(address) refused the call: \(sameToken)")
        case 404:
            throw noQueue(address)
        default:
            let detail = (object?["detail"] as? String).map { ": " + $0.terminalSafe } ?? ""
            throw Failure(description: "hub \(address) answered \(reply.status)\(detail)")
        }
    }

    /// One call request with the token, within `seconds` in all.
    private static func post(_ target: String, token: String, hub address: String, seconds: Int)
        throws(Failure) -> (status: Int, body: Data)
    {
        do {
            return try HubClient.post(
                target, headers: ["X-JamPasir-Token": token], contentType: "text/plain", to: address, timeout: seconds,
                within: Double(seconds))
        } catch {
            throw Failure(description: "hub \(address) (push.hub): \(error)")
        }
    }

    private static let sameToken = "queue.token must be the same here and on the hub"

    private static func noQueue(_ address: String) -> Failure {
        Failure(description: "hub \(address) keeps no queue: start it with `jampasir hub serve` and its [queue] settings")
    }
}
