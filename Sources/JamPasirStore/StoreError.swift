/// Store failures, worded for the technician who reads them in the journal or the CLI.
public enum StoreError: Error, Equatable, CustomStringConvertible {
    case missing(path: String)
    case cannotOpen(path: String, reason: String)
    case outdatedSchema(path: String)
    case notOpen(id: Int64)
    case failed(path: String, reason: String)

    public var description: String {
        switch self {
        case .missing(let path):
            "no session store at \(path): start jampasird once to create it, or pass --store PATH (config key store.path)"
        case .cannotOpen(let path, let reason):
            "cannot open the session store \(path): \(reason). Check the path (config key store.path) and that this user may read and write it"
        case .outdatedSchema(let path):
            "the session store \(path) was written by an older jampasird: start the daemon once to migrate it"
        case .notOpen(let id):
            "session \(id) is not open: its outcome is already recorded"
        case .failed(let path, let reason):
            "session store \(path): \(reason)"
        }
    }
}
