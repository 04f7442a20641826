import JamPasirDaemon

@main
enum Jampasird {
    static func main() async {
        do {
            var command = try DaemonCommand.parseAsRoot()
            if let daemon = command as? DaemonCommand {
                try await daemon.run()
            } else {
                try command.run()
            }
        } catch {
            DaemonCommand.exit(withError: error)
        }
    }
}
