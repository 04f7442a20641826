import ArgumentParser
import Foundation
import JamPasirConfig
import JamPasirCore
import JamPasirHub

/// `jampasir call`: the call button from the command line, for a counter whose button is not
/// fitted or broken, and for the technician who checks the link to the hub.
public struct CallCommand: ParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "call",
        abstract: "Call the next waiting ticket to this counter, as the call button does.",
        discussion: """
            Signs the call with this counter's device key (run as the jampasir user or with sudo) and \
            sends it to the hub at push.hub, which takes it only from a key in its export.trusted_keys, \
            for that key's own counter, once, within 3 s. Prints the ticket called, or that nobody \
            waits. --check asks whether the hub would take this counter's calls, calling nobody. Exit \
            status 0: called, nobody waiting, or (with --check) taken; 69: no answer, or refused, with \
            the hub's reason; 78: no hub configured.
            """)

    @OptionGroup var storeOptions: StoreOptions
    @Flag(name: .long, help: "Only ask whether the hub takes this counter's calls; nobody is called.") var check = false

    public init() {}

    public func run() throws {
        let configuration = try storeOptions.configuration()
        guard let hub = configuration.pushHub else {
            throw CLIFailure(
                message: "no hub to call: set push.hub in \(storeOptions.config ?? Configuration.defaultPath)", exitStatus: 78)
        }
        let key = try counterKey(configuration)
        do {
            if check {
                try QueueCall.check(counter: configuration.counterID, key: key, hub: hub)
                print("hub \(hub) takes \(configuration.counterID)'s calls".terminalSafe)
            } else {
                print("\(configuration.counterID): \(try QueueCall.call(counter: configuration.counterID, key: key, hub: hub))".terminalSafe)
            }
        } catch {
            throw CLIFailure(message: "\(error)", exitStatus: 69)
        }
    }
}
