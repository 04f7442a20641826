import Foundation
import JamPasirCore
import JamPasirStore

/// `manifest.json` of an export: what each file must hash to, which sessions are in it, and
/// an Ed25519 signature by the counter's device key over all of that.
public struct ExportManifest: Codable, Equatable, Sendable {
    public static let formatName = "jampasir-export-1"
    /// A hub's queue export (`jampasir hub export`): `queue.csv`, its records counted in `records`.
    public static let queueFormatName = "jampasir-queue-1"

    public struct File: Codable, Equatable, Sendable {
        public var name: String
        public var sha256: String
        public var size: Int

        enum CodingKeys: String, CodingKey, CaseIterable {
            case name, sha256, size
        }
    }

    public struct SessionRange: Codable, Equatable, Sendable {
        public var count: Int
        public var firstID: Int64?
        public var lastID: Int64?

        public init(count: Int, firstID: Int64? = nil, lastID: Int64? = nil) {
            self.count = count
            self.firstID = firstID
            self.lastID = lastID
        }

        enum CodingKeys: String, CodingKey, CaseIterable {
            case count
            case firstID = "first_id"
            case lastID = "last_id"
        }
    }

    /// Everything the signature covers.
    public struct Body: Codable, Equatable, Sendable {
        public var format = ExportManifest.formatName
        public var counterID: String
        public var exportedAt: String
        public var sessions: SessionRange
        public var files: [File]
        public var devicePublicKey: String
        /// The store's audit chain head when the export was made (absent in older exports):
        /// `jampasir verify --store` later shows whether history was rewritten since.
        public var chain: AuditChain.Head?
        /// A queue export's records (their count and first and last `seq`); absent in a counter's.
        public var records: SessionRange? = nil
        /// The JamPasir version that made the export (absent in older exports): the hub's
        /// counter list shows which counter an update stick missed.
        public var softwareVersion: String? = JamPasirVersion.string

        /// What a version may look like: a Debian upstream version's characters, at most 64.
        public static func isVersion(_ text: String) -> Bool {
            (1...64).contains(text.utf8.count)
                && text.utf8.allSatisfy { byte in
                    (UInt8(ascii: "0")...UInt8(ascii: "9")).contains(byte) || (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(byte)
                        || (UInt8(ascii: "a")...UInt8(ascii: "z")).contains(byte) || Array(".+~-".utf8).contains(byte)
                }
        }

        enum CodingKeys: String, CodingKey, CaseIterable {
            case format, sessions, files, chain, records
            case softwareVersion = "software_version"
            case counterID = "counter_id"
            case exportedAt = "exported_at"
            case devicePublicKey = "device_public_key"
        }

        /// The exact bytes that are signed: sorted keys, no whitespace.
        public func canonicalData() throws -> Data {
            let encoder = JSONEncoder()
            encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
            return try encoder.encode(self)
        }
    }

    public var body: Body
    /// Base64 Ed25519 signature over `body.canonicalData()`.
    public var signature: String

    public init(body: Body, signature: String) {
        self.body = body
        self.signature = signature
    }

    public init(from decoder: Decoder) throws {
        body = try Body(from: decoder)
        signature = try decoder.container(keyedBy: SignatureKey.self).decode(String.self, forKey: .signature)
    }

    public func encode(to encoder: Encoder) throws {
        try body.encode(to: encoder)
        var container = encoder.container(keyedBy: SignatureKey.self)
        try container.encode(signature, forKey: .signature)
    }

    enum SignatureKey: String, CodingKey {
        case signature
    }
}
