/// The kiosk's printer, as the kiosk needs it: its state, and a whole ticket written or not.
public protocol TicketPrinter {
    /// Asks the printer (DLE EOT 2 and 4) and waits briefly for its answers.
    func state() -> PrinterState
    /// Writes every byte of `bytes`, or throws saying why not (unplugged, timed out).
    func write(_ bytes: [UInt8]) throws
}

/// One press of the kiosk's button. A ticket exists only if it printed: a full room, paper out,
/// an open cover or a silent printer give no ticket and a reason for the kiosk's display and
/// the alert; a printer that fails part-way voids the number it was printing, since a torn
/// ticket with it may be in someone's hand, and the queue never holds a number nobody holds.
public enum KioskPress: Sendable, Equatable {
    case issued(Ticket, printer: PrinterState)
    case roomFull(waiting: Int)
    /// Nothing was printed; the number is kept for the next ticket.
    case printerNotReady(PrinterState)
    /// The ticket did not print whole: `voided` is never issued today.
    case printFailed(voided: String, reason: String)

    /// What the printer did with a ticket (`print(_:on:)`).
    public enum Printing: Sendable, Equatable {
        case printed(PrinterState)
        case notReady(PrinterState)
        case failed(reason: String)
    }

    /// Presses the button at `now`: checks the room and the printer, prints the ticket `layout`
    /// makes for the next number (with the people ahead and the estimated wait), and only then
    /// puts it in the queue. The three steps are apart (`next`, `print`, `settle`) so that a
    /// queue shared with others can print while it holds nothing.
    public static func press(
        _ room: inout WaitingRoom, at now: WallTime, printer: some TicketPrinter,
        layout: (_ label: String, _ ahead: Int, _ estimate: WaitEstimate) -> TicketPrint
    ) -> KioskPress {
        guard let next = next(in: room, at: now) else { return .roomFull(waiting: room.waitingCount) }
        return settle(print(layout(next.label, next.ahead, next.estimate), on: printer), in: &room, at: now)
    }

    /// The ticket the next press prints (its label, the people ahead, the estimated wait), or
    /// nil if the room is full.
    public static func next(in room: WaitingRoom, at now: WallTime) -> (label: String, ahead: Int, estimate: WaitEstimate)? {
        let waiting = room.waitingCount
        guard waiting < room.rules.roomCapacity else { return nil }
        return (room.nextLabel, waiting, room.estimate(at: now))
    }

    /// Prints `ticket` if the printer is ready, and says whether it printed whole.
    public static func print(_ ticket: TicketPrint, on printer: some TicketPrinter) -> Printing {
        let before = printer.state()
        guard before.canPrint else { return .notReady(before) }
        do {
            try printer.write(ticket.escPos)
        } catch {
            return .failed(reason: "\(error)")
        }
        // The printer takes the bytes into its buffer first: whether the paper ran out or the
        // cover opened while it printed, only its state afterwards says.
        let after = printer.state()
        return after.canPrint ? .printed(after) : .failed(reason: after.message)
    }

    /// `printing` of the room's next ticket, settled in the room: the ticket queued if it
    /// printed, its number voided if it failed (a torn ticket may be in someone's hand).
    public static func settle(_ printing: Printing, in room: inout WaitingRoom, at now: WallTime) -> KioskPress {
        switch printing {
        case .notReady(let state):
            return .printerNotReady(state)
        case .failed(let reason):
            return .printFailed(voided: room.voidNextNumber(), reason: reason)
        case .printed(let after):
            guard case .issued(let issued) = room.issue(at: now) else {
                preconditionFailure("the room had space when the ticket was made and only presses fill it")
            }
            return .issued(issued, printer: after)
        }
    }
}
