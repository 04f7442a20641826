import JamPasirDaemon

DaemonCommand.runMain()
