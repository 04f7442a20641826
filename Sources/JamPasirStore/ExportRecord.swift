import Foundation
import GRDB

/// One export that reached a stick: when, which stick, how far the log went.
public struct ExportRecord: Codable, Equatable, Sendable, FetchableRecord, MutablePersistableRecord {
    public static let databaseTableName = "export"

    public var id: Int64?
    public var exportedAt: Date
    /// Vendor, model and serial of the stick.
    public var stick: String
    public var sessionCount: Int
    public var lastSessionID: Int64?
    /// SHA-256 (hex) of the manifest written to the stick.
    public var manifestSHA256: String

    enum CodingKeys: String, CodingKey {
        case id, stick
        case exportedAt = "exported_at"
        case sessionCount = "session_count"
        case lastSessionID = "last_session_id"
        case manifestSHA256 = "manifest_sha256"
    }

    public init(exportedAt: Date, stick: String, sessionCount: Int, lastSessionID: Int64?, manifestSHA256: String) {
        self.exportedAt = exportedAt
        self.stick = stick
        self.sessionCount = sessionCount
        self.lastSessionID = lastSessionID
        self.manifestSHA256 = manifestSHA256
    }

    public mutating func didInsert(_ inserted: InsertionSuccess) {
        id = inserted.rowID
    }
}

extension SessionStore {
    public func recordExport(_ export: ExportRecord) throws(StoreError) {
        try write { db in
            var record = export
            try record.insert(db)
            try AuditChain.append(db, kind: .export, subject: record.id!)
        }
    }

    /// The most recent export, if any.
    public func lastExport() throws(StoreError) -> ExportRecord? {
        try read { db in try ExportRecord.order(Column("id").desc).fetchOne(db) }
    }
}
