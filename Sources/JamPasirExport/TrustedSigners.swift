import Crypto
import Foundation
import JamPasirStore

/// The office's counter keys: the device keys an export may be signed with. A signature alone
/// says only that the manifest was not edited since someone signed it; whether that someone
/// is one of the office's counters is what this list decides.
public struct TrustedSigners: Equatable, Sendable {
    /// Raw 32-byte Ed25519 public keys.
    private var keys: Set<Data>

    public struct Failure: Error, Equatable, CustomStringConvertible {
        public var description: String
    }

    /// `keys`: base64 Ed25519 public keys, as `jampasird` logs them at start.
    public init(_ keys: [String]) throws(Failure) {
        self.keys = []
        for key in keys {
            guard let raw = Self.rawKey(key) else {
                throw Failure(description: "\(key) is not a base64 Ed25519 public key (32 bytes)")
            }
            self.keys.insert(raw)
        }
    }

    /// The keys in a trusted-keys file: one base64 public key per line; `#` starts a comment.
    public static func keys(inFile text: String, path: String) throws(Failure) -> [String] {
        var keys: [String] = []
        for (number, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let key = line.prefix { $0 != "#" }.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !key.isEmpty else { continue }
            guard Self.rawKey(key) != nil else {
                throw Failure(
                    description:
                        "\(path):\(number + 1): not a base64 Ed25519 public key (32 bytes); one key per line, # for comments"
                )
            }
            keys.append(key)
        }
        return keys
    }

    public func trusts(_ publicKeyBase64: String) -> Bool {
        Self.rawKey(publicKeyBase64).map(keys.contains) ?? false
    }

    /// `sha256:<hex>` of the raw public key, as `jampasird` logs it at start: what a person
    /// compares before adding a key to the trusted ones. Nil if `publicKeyBase64` is not a key.
    public static func fingerprint(of publicKeyBase64: String) -> String? {
        rawKey(publicKeyBase64).map { "sha256:" + SHA256.hash(data: $0).hexString }
    }

    /// The one spelling of a key: base64 admits several for the same 32 bytes (unused low bits
    /// of the last character), so a key is compared and stored in this form only.
    public static func canonical(_ publicKeyBase64: String) -> String? {
        rawKey(publicKeyBase64)?.base64EncodedString()
    }

    static func rawKey(_ base64: String) -> Data? {
        guard let raw = Data(base64Encoded: base64), raw.count == 32,
            (try? Curve25519.Signing.PublicKey(rawRepresentation: raw)) != nil
        else { return nil }
        return raw
    }
}
