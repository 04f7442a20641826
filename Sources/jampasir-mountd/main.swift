import Glibc
import JamPasirMount
import JamPasirPosix
import Logging

// jampasir-mountd: the only privileged part of JamPasir. It mounts USB stick partitions for
// jampasird (which runs with no capabilities at all) — read-only, nosuid, nodev, noexec,
// nosymfollow — remounts them writable once the daemon has found an authorised key, and
// unmounts them. It reads nothing on the sticks itself. See README, "Security".

let usage = """
    usage: jampasir-mountd [--user NAME] [--socket PATH] [--media-dir PATH]
      --user NAME       the daemon's user: the only one (with root) allowed to ask, owner of the stick's files (jampasir)
      --socket PATH     listen here when not started by systemd's jampasir-mountd.socket (/run/jampasir-mountd.sock)
      --media-dir PATH  where sticks are mounted (/run/jampasir-media)
    """
var user = "jampasir"
var socketPath = "/run/jampasir-mountd.sock"
var mediaDirectory = "/run/jampasir-media"
var arguments = CommandLine.arguments.dropFirst()
while let flag = arguments.popFirst() {
    guard let value = arguments.popFirst(), ["--user", "--socket", "--media-dir"].contains(flag) else {
        if flag == "--help" {
            print(usage)
            exit(0)
        }
        SystemLog.fatal("jampasir-mountd: bad argument \(flag)\n\(usage)")
        exit(64)
    }
    switch flag {
    case "--user": user = value
    case "--socket": socketPath = value
    default: mediaDirectory = value
    }
}

SystemLog.bootstrap()
let logger = Logger(label: "jampasir-mountd")
guard let account = getpwnam(user) else {
    logger.critical("no user \(user): create it (the package's sysusers.d entry does) or pass --user")
    exit(67)
}
if mkdir(mediaDirectory, 0o750) != 0 && errno != EEXIST {
    logger.critical("\(SystemError("cannot create \(mediaDirectory)"))")
    exit(73)
}
chown(mediaDirectory, 0, account.pointee.pw_gid)
let helper = MountHelper(
    mediaDirectory: mediaDirectory, ownerUID: account.pointee.pw_uid, ownerGID: account.pointee.pw_gid,
    system: LinuxMountSystem(), logger: logger)
// Sticks mounted by an earlier run (a restart mid-export) are taken over, not mounted over.
if let mountInfo = readTextFile("/proc/self/mountinfo") {
    for mountPoint in helper.adoptMounts(MountInfo.parse(mountInfo)) {
        logger.notice("\(mountPoint) was mounted by an earlier run: taken over")
    }
} else {
    logger.warning("cannot read /proc/self/mountinfo: sticks mounted by an earlier run are not taken over")
}
let listener: Int32
if let activated = MountHelperServer.activatedSocket() {
    listener = activated
} else {
    do {
        listener = try MountHelperServer.listen(at: socketPath)
        chown(socketPath, 0, account.pointee.pw_gid)
    } catch {
        logger.critical("\(error)")
        exit(71)
    }
}
logger.notice("serving \(user) (uid \(account.pointee.pw_uid)), mounting under \(mediaDirectory)")
logger.critical("\(MountHelperServer.serve(helper, on: listener))")
exit(1)
