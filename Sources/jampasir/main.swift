import JamPasirCLI
import JamPasirDaemon

// One executable for the counter's two commands, busybox style: the package installs it as
// /usr/bin/jampasir and links /usr/bin/jampasird to it, and the name it is started by decides.
// The Swift runtime, linked in statically, is then on the counter once instead of twice.
if CommandLine.arguments.first?.split(separator: "/").last == "jampasird" {
    DaemonCommand.runMain()
} else {
    JampasirCommand.runMain()
}
