import JamPasirDaemon
import ArgumentParser

// Synchronous on purpose: the daemon runs its event loop on this, the main thread, and starts
// no Swift concurrency or libdispatch worker (see `SerialWorker`).
@main
enum Jampasird {
    static func main() {
        do {
            var command = try DaemonCommand.parseAsRoot()
            try command.run()
        } catch {
            DaemonCommand.exit(withError: error)
        }
    }
}
