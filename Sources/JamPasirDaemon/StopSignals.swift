import Foundation
import JamPasirHardware
import JamPasirPosix
import Logging

/// SIGTERM (systemd) and SIGINT (Ctrl-C in the simulator): blocked in every thread and taken by
/// one thread in `sigwait`, which posts `.stop` to the event loop, so a stop arrives like any
/// other event. Made before any thread starts, since threads inherit the blocked set.
struct StopSignals {
    private let set: sigset_t

    init() {
        var set = sigset_t()
        sigemptyset(&set)
        sigaddset(&set, SIGTERM)
        sigaddset(&set, SIGINT)
        pthread_sigmask(SIG_BLOCK, &set, nil)
        self.set = set
    }

    func forward(to loop: CounterLoop, logger: Logger) {
        let set = set
        startThread(named: "jp-signals") {
            var waitingFor = set
            var number: Int32 = 0
            while sigwait(&waitingFor, &number) == 0 {
                logger.notice("signal \(number == SIGTERM ? "SIGTERM" : "SIGINT"): stopping")
                loop.post(.stop)
            }
        }
    }
}
