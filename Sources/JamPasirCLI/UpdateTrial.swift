import Foundation
import JamPasirReports

/// After `--serve` installed an update, jampasird restarts into it. The new version must report
/// ready to systemd (Type=notify: active) within `update.start_timeout_seconds`; a version that
/// does not is replaced by the one kept before it (`UpdateInstaller.rollBack`).
struct StartWatch: Sendable {
    /// What systemd says of jampasird.service: its state and which start this is.
    struct Unit: Equatable {
        var state: String
        var invocation: String
    }

    enum Outcome: Equatable {
        /// A new start of jampasird reported ready.
        case ready
        /// The daemon that asked for the update still runs (it did not restart): the new
        /// version runs from its next start.
        case notRestarted
        /// No new start reported ready: how jampasird was left.
        case failed(String)
    }

    var read: @Sendable () -> Unit?
    var sleep: @Sendable (Duration) -> Void

    static let systemd = StartWatch(read: jampasird, sleep: { Thread.sleep(forTimeInterval: $0 / .seconds(1)) })

    /// Watches, every `poll`, for a start of jampasird other than `old` that is active.
    func outcome(after old: String?, within bound: Duration, every poll: Duration = .seconds(1)) -> Outcome {
        var last: Unit?
        for _ in 0..<max(1, Int(bound / poll)) {
            sleep(poll)
            last = read()
            if let last, last.state == "active", last.invocation != old { return .ready }
        }
        guard let last else { return .failed("systemd could not be asked about jampasird.service") }
        if last.state == "active" { return .notRestarted }
        return .failed("jampasird.service is \(last.state)")
    }

    static func jampasird() -> Unit? {
        guard
            let shown = try? DebianTool.systemctl.run(
                ["show", "--property=ActiveState", "--property=InvocationID", "jampasird.service"],
                what: "asking systemd about jampasird")
        else { return nil }
        var values: [String: String] = [:]
        for line in String(decoding: shown, as: UTF8.self).split(separator: "\n") {
            let parts = line.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
            if parts.count == 2 { values[parts[0]] = parts[1] }
        }
        guard let state = values["ActiveState"] else { return nil }
        return Unit(state: state, invocation: values["InvocationID"] ?? "")
    }
}

extension UpdateInstaller {
    /// The trial of a version just installed: jampasird (`before`: the start that asked for it)
    /// must restart into it and report ready within `bound`; otherwise the previous version is
    /// installed again and jampasird started on it. Said in the journal; the rollback's receipt
    /// is kept on the counter (jampasird chains it at its start).
    func trial(
        of receipt: UpdateReceipt, before: StartWatch.Unit?, within bound: Duration, watch: StartWatch = .systemd
    ) {
        let version = receipt.to ?? "?"
        switch watch.outcome(after: before?.invocation, within: bound) {
        case .ready:
            say("jampasird \(version) reported ready")
        case .notRestarted:
            say("jampasird has not restarted: jampasir \(version) runs from its next start")
        case .failed(let how):
            let reason = "jampasir \(version) did not report ready within \(bound.components.seconds) s (\(how))"
            say("\(reason): installing the previous version again")
            let (rolledBack, refusal) = rollBack(counterID: receipt.counterID, because: reason)
            keep(rolledBack, onStick: nil)
            if let refusal {
                say("the rollback failed (UPd\(refusal.code)): \(refusal.reason); the counter needs a technician")
                return
            }
            // jampasird may have given up restarting (its start limit): started again, on the
            // version it ran before.
            _ = try? DebianTool.systemctl.run(["reset-failed", "jampasird.service"], what: "resetting jampasird")
            _ = try? DebianTool.systemctl.run(["restart", "--no-block", "jampasird.service"], what: "restarting jampasird")
            switch watch.outcome(after: nil, within: bound) {
            case .ready, .notRestarted:
                say("rolled back to jampasir \(rolledBack.to ?? "?"): jampasird reported ready")
            case .failed(let how):
                say("rolled back to jampasir \(rolledBack.to ?? "?"), but it did not report ready either (\(how)): the counter needs a technician")
            }
        }
    }
}
