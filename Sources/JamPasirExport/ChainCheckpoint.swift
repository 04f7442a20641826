import Crypto
import Foundation
import JamPasirReports
import JamPasirStore

/// A signed statement of the audit chain's head: "counter X's chain had entry N with hash H at
/// time T", signed by the device key. A checkpoint that has left the box (an export's manifest
/// carries one; jampasird logs one at every start and after every stick export, for a journal
/// forwarded elsewhere or a supervisor to copy) lets `jampasir verify --store S --checkpoint FILE`
/// name a rewrite or a truncation of the chain made after it.
public struct ChainCheckpoint: Codable, Equatable, Sendable {
    public static let formatName = "jampasir-checkpoint-1"

    public struct Body: Codable, Equatable, Sendable {
        public var format = ChainCheckpoint.formatName
        public var counterID: String
        public var madeAt: String
        public var chain: AuditChain.Head
        public var devicePublicKey: String

        enum CodingKeys: String, CodingKey {
            case format, chain
            case counterID = "counter_id"
            case madeAt = "made_at"
            case devicePublicKey = "device_public_key"
        }

        /// The exact bytes that are signed: sorted keys, no whitespace.
        func canonicalData() throws -> Data {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            return try encoder.encode(self)
        }
    }

    public var body: Body
    /// Base64 Ed25519 signature over `body.canonicalData()`.
    public var signature: String

    public init(counterID: String, head: AuditChain.Head, key: DeviceKey, at date: Date) throws {
        body = Body(
            counterID: counterID, madeAt: Timestamp.iso8601(date), chain: head,
            devicePublicKey: key.publicKeyBase64)
        signature = try key.sign(body.canonicalData()).base64EncodedString()
    }

    /// One line of JSON: what jampasird logs, and what `--checkpoint FILE` reads.
    public var line: String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return (try? encoder.encode(self)).map { String(decoding: $0, as: UTF8.self) } ?? ""
    }

    /// The checkpoint in `text`: its JSON alone, or the whole journal line it was logged in.
    public static func parse(_ text: String) -> ChainCheckpoint? {
        guard let start = text.firstIndex(of: "{"), let end = text.lastIndex(of: "}"), start < end else { return nil }
        return try? JSONDecoder().decode(ChainCheckpoint.self, from: Data(text[start...end].utf8))
    }

    /// Whether the signature is the device key's (the one the checkpoint names) over its body.
    public var signatureIsValid: Bool {
        guard body.format == Self.formatName, let keyData = Data(base64Encoded: body.devicePublicKey),
            let key = try? Curve25519.Signing.PublicKey(rawRepresentation: keyData),
            let signatureData = Data(base64Encoded: signature), let signed = try? body.canonicalData()
        else { return false }
        return key.isValidSignature(signatureData, for: signed)
    }
}

extension ChainCheckpoint {
    /// What jampasird's log line starts with; the JSON follows.
    public static let logPrefix = "chain checkpoint"

    /// A checkpoint of `store`'s chain head now; nil while the chain is empty.
    public static func current(store: SessionStore, counterID: String, key: DeviceKey, at date: Date) throws
        -> ChainCheckpoint?
    {
        guard let head = try store.chainHead() else { return nil }
        return try ChainCheckpoint(counterID: counterID, head: head, key: key, at: date)
    }

    /// The log line: `chain checkpoint <when> (for jampasir verify --checkpoint): {…}`.
    public func logLine(_ when: String) -> String {
        "\(Self.logPrefix) \(when) (for jampasir verify --store STORE --checkpoint FILE): \(line)"
    }
}
