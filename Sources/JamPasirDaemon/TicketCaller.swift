import JamPasirCore
import JamPasirExport
import JamPasirHardware
import JamPasirHub
import Logging

/// Asks the office hub for the next waiting ticket for the call button, off the event loop:
/// `callNext` returns at once, and the answer reaches the loop later as
/// `CounterEvent.callAnswered` (the daemon: `HubTicketCaller`; tests: a fake answered by hand).
public protocol TicketCaller: Sendable {
    func callNext(number: Int)
}

/// The daemon's caller: one call at a time on a thread of its own, so a hub that does not answer
/// never holds up a countdown. Every failure is logged with what to check, and answered
/// `.unreachable`: the counter shows `Err2` for that call and times exactly as before.
final class HubTicketCaller: TicketCaller {
    private let worker = SerialWorker(name: "jp-call")
    private let hub: String?
    private let key: DeviceKey
    private let counterID: String
    private let logger: Logger
    private let answered: @Sendable (CallAnswer, Int) -> Void

    init(
        hub: String?, key: DeviceKey, counterID: String, logger: Logger,
        answered: @escaping @Sendable (CallAnswer, Int) -> Void
    ) {
        self.hub = hub
        self.key = key
        self.counterID = counterID
        self.logger = logger
        self.answered = answered
    }

    func callNext(number: Int) {
        worker.submit { [self] in
            guard let hub else {
                logger.warning("call button: this counter has no hub to call: set push.hub in the configuration")
                answered(.unreachable, number)
                return
            }
            do {
                answered(try QueueCall.call(counter: counterID, key: key, hub: hub), number)
            } catch {
                logger.warning("call button: \(error); the counter times as before")
                answered(.unreachable, number)
            }
        }
    }
}
