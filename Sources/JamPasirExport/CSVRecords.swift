/// A small RFC 4180 reader: quoted fields, doubled quotes, CRLF, LF or CR, a leading BOM. Fed
/// bytes as they arrive, it holds one record at a time, so a file from a stick or the LAN is
/// read in bounded memory whatever its shape (eight megabytes of newlines are eight million
/// one-field records, handed on one by one).
struct CSVRecords {
    /// The longest record taken: the longest a JamPasir export writes is a few hundred bytes.
    static let recordLimit = 64 << 10

    struct TooLong: Error, CustomStringConvertible {
        var record: Int
        var description: String { "record \(record) is longer than \(CSVRecords.recordLimit) bytes: not a JamPasir export's" }
    }

    private var record: [String] = []
    private var field: [UInt8] = []
    private var recordBytes = 0
    private var records = 0
    private var quoted = false
    /// In a quoted field, a quote that closes it unless another follows (a doubled quote).
    private var quoteSeen = false
    /// A CR just ended a record: an LF right after it belongs to it.
    private var afterCR = false

    /// Reads `bytes`, handing each complete record to `take`.
    mutating func feed(_ bytes: UnsafeRawBufferPointer, _ take: ([String]) -> Void) throws(TooLong) {
        for byte in bytes { try feed(byte, take) }
    }

    /// The last record, if the input did not end with a line break.
    mutating func finish(_ take: ([String]) -> Void) {
        quoteSeen = false
        quoted = false
        if !field.isEmpty || !record.isEmpty { endRecord(take) }
    }

    private mutating func feed(_ byte: UInt8, _ take: ([String]) -> Void) throws(TooLong) {
        recordBytes += 1
        guard recordBytes <= Self.recordLimit else { throw TooLong(record: records + 1) }
        if quoteSeen {
            quoteSeen = false
            if byte == UInt8(ascii: "\"") {
                field.append(byte)
                return
            }
            quoted = false
        }
        if afterCR {
            afterCR = false
            if byte == UInt8(ascii: "\n") {
                recordBytes = 0
                return
            }
        }
        if quoted {
            if byte == UInt8(ascii: "\"") { quoteSeen = true } else { field.append(byte) }
            return
        }
        switch byte {
        case UInt8(ascii: "\""): quoted = true
        case UInt8(ascii: ","): endField()
        case UInt8(ascii: "\n"): endRecord(take)
        case UInt8(ascii: "\r"):
            endRecord(take)
            afterCR = true
        default: field.append(byte)
        }
    }

    private mutating func endField() {
        var text = String(decoding: field, as: UTF8.self)
        if records == 0 && record.isEmpty { text = String(text.drop { $0 == "\u{FEFF}" }) }
        record.append(text)
        field.removeAll(keepingCapacity: true)
    }

    private mutating func endRecord(_ take: ([String]) -> Void) {
        endField()
        take(record)
        record.removeAll(keepingCapacity: true)
        records += 1
        recordBytes = 0
    }
}
