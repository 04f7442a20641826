import Crypto
import Foundation
import JamPasirPosix

/// The counter's Ed25519 signing key, created on first use and kept next to the store
/// (`device.key`, mode 0600). Every export manifest is signed with it, so the office can check
/// later that nobody edited an export; the public key is printed in each manifest.
public struct DeviceKey: Sendable {
    public struct Failure: Error, CustomStringConvertible {
        public var description: String
    }

    /// The raw 32-byte key (Crypto's key type is not Sendable; the bytes are).
    private let raw: Data

    private init(privateKey: Curve25519.Signing.PrivateKey) {
        raw = privateKey.rawRepresentation
    }

    private var privateKey: Curve25519.Signing.PrivateKey {
        // `raw` came from a valid key, so this cannot fail.
        try! Curve25519.Signing.PrivateKey(rawRepresentation: raw)
    }

    public var publicKeyBase64: String { privateKey.publicKey.rawRepresentation.base64EncodedString() }

    /// What `jampasir verify` shows of the key that signed an export (see `TrustedSigners`).
    public var publicKeyFingerprint: String { TrustedSigners.fingerprint(of: publicKeyBase64)! }

    /// Loads the key at `path`, or creates it (atomically) if there is none yet.
    public static func loadOrCreate(at path: String) throws(Failure) -> DeviceKey {
        if let key = try load(at: path) { return key }
        return try create(at: path)
    }

    /// The flag of `jampasird` that lets a counter with history start under a new key.
    public static let newIdentityFlag = "--new-device-key"

    /// Loads the key at `path`; creates one only for a store with no history yet, or when a
    /// person said so (`newIdentity`). `history` says what the store holds ("12 sessions, 1
    /// export"), nil for nothing: a key missing beside a history is a lost identity, and a new
    /// one made silently would carry that history on as if nothing had happened.
    public static func loadOrCreate(at path: String, history: String?, newIdentity: Bool) throws(Failure)
        -> DeviceKey
    {
        if let key = try load(at: path) { return key }
        if let history, !newIdentity {
            throw Failure(
                description:
                    "device key \(path) is missing, but the store already holds \(history) signed and chained under it: restore the key file from a backup (mode 0600, owner jampasir); only to continue under a new identity, which earlier exports will not verify against, start jampasird once with \(newIdentityFlag)"
            )
        }
        return try create(at: path)
    }

    /// The key at `path`, which must exist (for the commands that sign as the counter and must
    /// never make it a new identity).
    public static func existing(at path: String) throws(Failure) -> DeviceKey {
        guard let key = try load(at: path) else {
            throw Failure(
                description:
                    "no device key at \(path): jampasird creates it when it first starts (config key store.device_key)")
        }
        return key
    }

    /// The key at `path`; nil when there is no file there.
    static func load(at path: String) throws(Failure) -> DeviceKey? {
        if let data = FileManager.default.contents(atPath: path) {
            do {
                return DeviceKey(privateKey: try Curve25519.Signing.PrivateKey(rawRepresentation: data))
            } catch {
                throw Failure(
                    description:
                        "device key \(path) is damaged (\(data.count) bytes, expected 32): restore it from backup; a new key would make earlier exports unverifiable against it"
                )
            }
        }
        if FileManager.default.fileExists(atPath: path) {
            throw Failure(description: "device key \(path) cannot be read: run as the jampasir user or with sudo")
        }
        return nil
    }

    /// A new key, written atomically to `path`.
    static func create(at path: String) throws(Failure) -> DeviceKey {
        let key = Curve25519.Signing.PrivateKey()
        let temporary = path + ".tmp-\(getpid())"
        let fd = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            throw Failure(description: SystemError("cannot create the device key \(path)").description)
        }
        let bytes = [UInt8](key.rawRepresentation)
        let written = write(fd, bytes, bytes.count)
        let synced = fsync(fd) == 0
        close(fd)
        guard written == bytes.count, synced, rename(temporary, path) == 0 else {
            let failure = SystemError("cannot write the device key \(path)")
            unlink(temporary)
            throw Failure(description: failure.description)
        }
        // The rename itself must survive a power cut: a key lost beside a history stops the daemon.
        let parent = (path as NSString).deletingLastPathComponent
        let folder = open(parent.isEmpty ? "." : parent, O_RDONLY | O_DIRECTORY | O_CLOEXEC)
        if folder >= 0 {
            fsync(folder)
            close(folder)
        }
        return DeviceKey(privateKey: key)
    }

    public func sign(_ data: Data) throws -> Data {
        try privateKey.signature(for: data)
    }
}
