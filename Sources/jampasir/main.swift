import JamPasirCLI

JampasirCommand.runMain()
