import Foundation
import JamPasirCore
import JamPasirHardware
import JamPasirPosix
import JamPasirQueue
import Synchronization

/// The ticket kiosk's big button, wired to the hub (which holds the printer,
/// `button.kiosk_line`): each press prints the next ticket, exactly as `POST /v1/queue/ticket`
/// does. Its edges go through the counter's own debounce and gesture rules, on a thread of its
/// own that sleeps until an edge or a gesture's deadline. The outcome of every press goes to
/// `log` (the journal); the printer's trouble also shows on the hall display and in the metrics,
/// through the queue.
public final class KioskButton: Sendable {
    private let button: any ButtonInput
    private let queue: HubQueue
    private let printer: any TicketPrinter & Sendable
    private let clock: any MonotonicClock
    private let log: @Sendable (String) -> Void
    private let doorbell = Doorbell()
    private let inbox = Mutex<(edges: [ButtonEdge], stopped: Bool)>(([], false))
    private let presses: Mutex<Presses>

    public init(
        button: any ButtonInput, rules: ServiceRules, queue: HubQueue, printer: any TicketPrinter & Sendable,
        clock: any MonotonicClock = SystemMonotonicClock(), log: @escaping @Sendable (String) -> Void
    ) {
        self.button = button
        self.queue = queue
        self.printer = printer
        self.clock = clock
        self.log = log
        presses = Mutex(Presses(rules: rules))
    }

    /// Starts reading the button on a thread of its own.
    public func start() {
        // A GPIO line that cannot be had is retried by the button itself, which says so.
        button.start(
            edge: { [self] edge in
                inbox.withLock { $0.edges.append(edge) }
                doorbell.ring()
            },
            gone: {})
        startThread(named: "jp-kiosk") { [self] in run() }
    }

    public func stop() {
        button.stop()
        inbox.withLock { $0.stopped = true }
        doorbell.ring()
    }

    private func run() {
        while true {
            clock.wait(until: presses.withLock { $0.nextWake }, doorbell: doorbell)
            let (edges, stopped) = inbox.withLock { state in
                defer { state.edges = [] }
                return state
            }
            if stopped { return }
            let decisions = presses.withLock { $0.take(edges, now: clock.now()) }
            for decision in decisions { act(on: decision) }
        }
    }

    private func act(on decision: Presses.Decision) {
        switch decision {
        case .ticket:
            let outcome: String
            do {
                switch try queue.press(at: Date(), printer: printer) {
                case .issued(let ticket, let state):
                    outcome = "\(ticket.label) printed" + (state == .paperLow ? "; \(state.message)" : "")
                case .roomFull(let waiting): outcome = "no ticket: the room is full (\(waiting) waiting)"
                case .printerNotReady(let state): outcome = "no ticket: \(state.message)"
                case .printFailed(let voided, let reason): outcome = "no ticket: \(voided) voided, the print failed: \(reason)"
                }
            } catch {
                outcome = "no ticket: the queue failed: \(error)"
            }
            // Presses made while it printed (or was refused), and for a moment after, ask nothing more.
            presses.withLock { $0.printed(at: clock.now()) }
            log("kiosk button: \(outcome)")
        case .ignored(let count):
            log("kiosk button: \(count) more press\(count == 1 ? "" : "es") within 2 s of a ticket's: no more tickets")
        case .stuck:
            log("kiosk button: held for \(Int(presses.withLock { $0.rules.stuckAfter }.components.seconds)) s: stuck? check the button and its wire (button.kiosk_line)")
        case .unstuck:
            log("kiosk button: released")
        }
    }

    /// Which gestures ask for a ticket: a press, or a long press (people hold a big button), once
    /// per hold; not one that began while the last ticket printed or within `quiet` after it (a
    /// child hammering the button, presses queued behind a slow printer). Pure: fed edges and
    /// the time.
    struct Presses {
        enum Decision: Equatable {
            case ticket
            case ignored(Int)
            case stuck
            case unstuck
        }

        let rules: ServiceRules
        private var recognizer: GestureRecognizer
        private var quietUntil: MonotonicInstant?
        /// After a ticket, presses that began within this are taken as the same request.
        static let quiet = Duration.seconds(2)

        init(rules: ServiceRules) {
            self.rules = rules
            recognizer = GestureRecognizer(rules: rules)
        }

        var nextWake: MonotonicInstant? { recognizer.nextWake }

        mutating func take(_ edges: [ButtonEdge], now: MonotonicInstant) -> [Decision] {
            var gestures: [Gesture] = []
            for edge in edges { gestures += recognizer.edge(edge) }
            gestures += recognizer.advance(to: now)
            var decisions: [Decision] = []
            var ignored = 0
            for gesture in gestures {
                switch gesture {
                case .press(let down, _), .longPress(let down, _):
                    if let quietUntil, down < quietUntil {
                        ignored += 1
                    } else if !decisions.contains(.ticket) {
                        decisions.append(.ticket)
                    } else {
                        ignored += 1
                    }
                case .stuck: decisions.append(.stuck)
                case .unstuck: decisions.append(.unstuck)
                }
            }
            if ignored > 0 { decisions.append(.ignored(ignored)) }
            return decisions
        }

        /// A ticket was asked for and answered at `now`.
        mutating func printed(at now: MonotonicInstant) {
            quietUntil = now + Self.quiet
        }
    }
}
