/// Turns raw button edges into gestures: debounce, long press and stuck-button detection.
///
/// Debounce keeps the first edge of a bounce burst (its timestamp is the real press) and ignores
/// edges closer than `debounce` to the last accepted one. If a burst ends on the other level,
/// that level is accepted when the window closes, with the timestamp of the edge that reached it,
/// so a lost edge can never leave the button looking held. A press shorter than the debounce
/// window is noise, not a gesture.
///
/// Pure: time only enters through the edges' timestamps and `advance(to:)`.
public struct GestureRecognizer: Sendable {
    private struct Hold: Sendable {
        var downAt: MonotonicInstant
        var longPressReported = false
        var stuckReported = false
    }

    private enum Deadline {
        case settleBounce, longPress, stuck
    }

    public let rules: ServiceRules
    private var level: ButtonEdge.Kind = .released
    private var lastAccepted: MonotonicInstant?
    /// The latest ignored edge, while it leaves the raw level different from the accepted one.
    private var unsettled: ButtonEdge?
    private var hold: Hold?

    /// Edges ignored as contact bounce since start-up (for logs and diagnostics).
    public private(set) var ignoredEdges = 0

    public init(rules: ServiceRules) {
        self.rules = rules
    }

    /// Whether the button is currently considered held down.
    public var isHeld: Bool { hold != nil }

    /// Whether the button has been held past the stuck-button time and not yet released.
    public var isStuck: Bool { hold?.stuckReported == true }

    /// When this recogniser next needs `advance(to:)`, if ever.
    public var nextWake: MonotonicInstant? { nextDeadline?.at }

    /// Feeds one raw edge; returns the gestures it completes, in time order.
    public mutating func edge(_ edge: ButtonEdge) -> [Gesture] {
        var gestures = advance(to: edge.at)
        if let lastAccepted, edge.at < lastAccepted {
            ignoredEdges += 1  // out of order: a timestamp from before what we already accepted
            return gestures
        }
        if edge.kind == level {
            ignoredEdges += 1
            unsettled = nil  // the burst came back to the accepted level
            return gestures
        }
        if let lastAccepted, edge.at - lastAccepted < rules.debounce {
            ignoredEdges += 1
            unsettled = edge
            return gestures
        }
        gestures += accept(edge)
        return gestures
    }

    /// Fires every deadline up to and including `now`, each at its own instant.
    public mutating func advance(to now: MonotonicInstant) -> [Gesture] {
        var gestures: [Gesture] = []
        while let deadline = nextDeadline, deadline.at <= now {
            switch deadline.kind {
            case .settleBounce:
                if let edge = unsettled {
                    unsettled = nil
                    gestures += accept(edge)
                }
            case .longPress:
                hold?.longPressReported = true
                gestures.append(.longPress(downAt: hold!.downAt, recognizedAt: deadline.at))
            case .stuck:
                hold?.stuckReported = true
                gestures.append(.stuck(downAt: hold!.downAt, recognizedAt: deadline.at))
            }
        }
        return gestures
    }

    private var nextDeadline: (kind: Deadline, at: MonotonicInstant)? {
        var candidates: [(kind: Deadline, at: MonotonicInstant)] = []
        if unsettled != nil, let lastAccepted {
            candidates.append((.settleBounce, lastAccepted + rules.debounce))
        }
        if let hold, !hold.stuckReported {
            if !hold.longPressReported {
                candidates.append((.longPress, hold.downAt + rules.longPress))
            }
            candidates.append((.stuck, hold.downAt + rules.stuckAfter))
        }
        return candidates.min { $0.at < $1.at }
    }

    private mutating func accept(_ edge: ButtonEdge) -> [Gesture] {
        level = edge.kind
        lastAccepted = edge.at
        switch edge.kind {
        case .pressed:
            hold = Hold(downAt: edge.at)
            return []
        case .released:
            guard let ended = hold else { return [] }
            hold = nil
            if ended.stuckReported { return [.unstuck(at: edge.at)] }
            if ended.longPressReported { return [] }
            if edge.at - ended.downAt < rules.debounce { return [] }  // noise spike
            return [.press(downAt: ended.downAt, upAt: edge.at)]
        }
    }
}
