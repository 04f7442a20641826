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

    /// Presses the button at `now`: checks the room and the printer, prints the ticket `layout`
    /// makes for the next number (with the people ahead and the estimated wait), and only then
    /// puts it in the queue.
    public static func press(
        _ room: inout WaitingRoom, at now: WallTime, printer: some TicketPrinter,
        layout: (_ label: String, _ ahead: Int, _ estimate: WaitEstimate) -> TicketPrint
    ) -> KioskPress {
        let waiting = room.waitingCount
        guard waiting < room.rules.roomCapacity else { return .roomFull(waiting: waiting) }
        let before = printer.state()
        guard before.canPrint else { return .printerNotReady(before) }
        let ticket = layout(room.nextLabel, waiting, room.estimate(at: now))
        do {
            try printer.write(ticket.escPos)
        } catch {
            return .printFailed(voided: room.voidNextNumber(), reason: "\(error)")
        }
        // The printer takes the bytes into its buffer first: whether the paper ran out or the
        // cover opened while it printed, only its state afterwards says.
        let after = printer.state()
        guard after.canPrint else {
            return .printFailed(voided: room.voidNextNumber(), reason: after.message)
        }
        guard case .issued(let issued) = room.issue(at: now) else {
            preconditionFailure("the room had space a moment ago and nothing else changes it")
        }
        return .issued(issued, printer: after)
    }
}
