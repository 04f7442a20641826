import Foundation
import JamPasirCore
import JamPasirExport
import JamPasirQueue

/// The counter's side of the call button: `POST /v1/queue/call?counter=ID` to the hub, signed
/// with the counter's device key (`SignedCall`). What the hub says is checked before it reaches
/// the counter's display and store: a ticket label of the queue's own form, or nobody.
public enum QueueCall {
    /// Why a call brought no answer, for the counter's log: what failed and what to check.
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// Whether the hub at `address` would take this counter's calls, without calling anyone: a
    /// signed call marked `check=1`, which the hub admits (or refuses, saying why) and does not
    /// carry out. For `jampasir doctor`.
    public static func check(counter: String, key: DeviceKey, hub address: String) throws(Failure) {
        let reply = try post(counter: counter, key: key, hub: address, check: true)
        switch reply.status {
        case 200: return
        case 404: throw noQueue(address)
        default: throw refused(reply, address)
        }
    }

    /// Gives up after `SignedCall.deadline`: an officer waits at most that long in front of
    /// `CALL`, and the hub carries out no call older than that.
    public static func call(counter: String, key: DeviceKey, hub address: String) throws(Failure) -> CallAnswer {
        let reply = try post(counter: counter, key: key, hub: address, check: false)
        switch reply.status {
        case 200:
            guard let object = try? JSONSerialization.jsonObject(with: reply.body) as? [String: Any] else {
                throw Failure(description: "hub \(address) (push.hub) did not answer as a JamPasir hub")
            }
            guard let ticket = object["ticket"] as? String else { return .nobodyWaiting }
            guard Ticket.isLabel(ticket) else {
                throw Failure(description: "hub \(address) (push.hub) called a ticket that is not one: \(ticket.terminalSafe)")
            }
            return .called(ticket: ticket)
        case 404:
            throw noQueue(address)
        default:
            throw refused(reply, address)
        }
    }

    /// One signed call (a check, or a call), within `SignedCall.deadline` in all.
    private static func post(counter: String, key: DeviceKey, hub address: String, check: Bool)
        throws(Failure) -> (status: Int, body: Data)
    {
        let seconds = Int(SignedCall.deadline.components.seconds)
        do {
            let call = try SignedCall(counterID: counter, key: key, at: Date(), check: check)
            return try HubClient.post(
                call.target, headers: call.headers, contentType: "text/plain", to: address, timeout: seconds,
                within: Double(seconds))
        } catch let failure as TCP.Failure {
            throw Failure(description: "hub \(address) (push.hub): \(failure)")
        } catch {
            throw Failure(description: "cannot sign the call with the device key: \(error)")
        }
    }

    /// The hub's refusal, as it gave it (401, 403: who this counter is to the hub).
    private static func refused(_ reply: (status: Int, body: Data), _ address: String) -> Failure {
        let object = try? JSONSerialization.jsonObject(with: reply.body) as? [String: Any]
        let detail = (object?["detail"] as? String).map { ": " + $0.terminalSafe } ?? ""
        return Failure(description: "hub \(address) answered \(reply.status)\(detail)")
    }

    private static func noQueue(_ address: String) -> Failure {
        Failure(description: "hub \(address) keeps no queue: start it with `jampasir hub serve` and its [queue] settings")
    }
}
