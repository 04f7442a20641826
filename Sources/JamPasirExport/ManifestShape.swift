import Foundation

/// The keys of `manifest.json`, checked before it is decoded: a duplicated key could mean one
/// thing to `jampasir verify` and another to any other reader, and an unknown key is something
/// the signature does not cover. JSONDecoder silently keeps one duplicate and ignores unknown
/// keys, so the text is walked here first.
enum ManifestShape {
    /// The keys allowed in each object, by path: `` (the manifest), `sessions`, `records`, `files[]`, `chain`.
    static let allowedKeys: [String: Set<String>] = [
        "": Set(ExportManifest.Body.CodingKeys.allCases.map(\.stringValue) + ["signature"]),
        "sessions": Set(ExportManifest.SessionRange.CodingKeys.allCases.map(\.stringValue)),
        "records": Set(ExportManifest.SessionRange.CodingKeys.allCases.map(\.stringValue)),
        "files[]": Set(ExportManifest.File.CodingKeys.allCases.map(\.stringValue)),
        "chain": ["seq", "hash"],
    ]

    /// Nesting deeper than the manifest's own (objects in an array in an object) is refused.
    static let maximumDepth = 8

    /// The problems found, each naming the key and where it is.
    static func problems(_ data: Data) -> [String] {
        var reader = Reader(bytes: Array(data))
        do {
            try reader.value(path: "", depth: 0)
            reader.skipWhitespace()
            if reader.index < reader.bytes.count { reader.problems.append("manifest.json has text after its end") }
        } catch {
            reader.problems.append("manifest.json is not valid JSON (byte \(reader.index))")
        }
        return reader.problems
    }

    struct Malformed: Error {}

    struct Reader {
        let bytes: [UInt8]
        var index = 0
        var problems: [String] = []

        init(bytes: [UInt8]) { self.bytes = bytes }

        mutating func skipWhitespace() {
            while index < bytes.count, [0x20, 0x09, 0x0A, 0x0D].contains(bytes[index]) { index += 1 }
        }

        mutating func next() throws(Malformed) -> UInt8 {
            guard index < bytes.count else { throw Malformed() }
            defer { index += 1 }
            return bytes[index]
        }

        mutating func value(path: String, depth: Int) throws(Malformed) {
            guard depth < ManifestShape.maximumDepth else { throw Malformed() }
            skipWhitespace()
            guard index < bytes.count else { throw Malformed() }
            switch bytes[index] {
            case UInt8(ascii: "{"): try object(path: path, depth: depth)
            case UInt8(ascii: "["): try array(path: path, depth: depth)
            case UInt8(ascii: "\""): _ = try string()
            default: try scalar()
            }
        }

        mutating func object(path: String, depth: Int) throws(Malformed) {
            index += 1
            var seen = Set<String>()
            let allowed = ManifestShape.allowedKeys[path]
            if allowed == nil { problems.append("manifest.json has an unexpected object at \(path)") }
            skipWhitespace()
            if index < bytes.count, bytes[index] == UInt8(ascii: "}") {
                index += 1
                return
            }
            while true {
                skipWhitespace()
                let key = try string()
                check(key, in: path, allowed: allowed, seen: &seen)
                skipWhitespace()
                guard try next() == UInt8(ascii: ":") else { throw Malformed() }
                try value(path: path.isEmpty ? key : path + "." + key, depth: depth + 1)
                skipWhitespace()
                switch try next() {
                case UInt8(ascii: ","): continue
                case UInt8(ascii: "}"): return
                default: throw Malformed()
                }
            }
        }

        mutating func check(_ key: String, in path: String, allowed: Set<String>?, seen: inout Set<String>) {
            let place = path.isEmpty ? "manifest.json" : "\(path) in manifest.json"
            if !seen.insert(key).inserted { problems.append("\(place) has the key \"\(key)\" twice") }
            if let allowed, !allowed.contains(key) { problems.append("\(place) has an unknown key \"\(key)\"") }
        }

        mutating func array(path: String, depth: Int) throws(Malformed) {
            index += 1
            skipWhitespace()
            if index < bytes.count, bytes[index] == UInt8(ascii: "]") {
                index += 1
                return
            }
            while true {
                try value(path: path + "[]", depth: depth + 1)
                skipWhitespace()
                switch try next() {
                case UInt8(ascii: ","): continue
                case UInt8(ascii: "]"): return
                default: throw Malformed()
                }
            }
        }

        /// A JSON string, escapes decoded (`"\u0063ount"` is the key `count`).
        mutating func string() throws(Malformed) -> String {
            guard try next() == UInt8(ascii: "\"") else { throw Malformed() }
            var units: [UInt16] = []
            var raw: [UInt8] = []
            func flush() {
                units += String(decoding: raw, as: UTF8.self).utf16
                raw = []
            }
            while true {
                let byte = try next()
                switch byte {
                case UInt8(ascii: "\""):
                    flush()
                    return String(decoding: units, as: UTF16.self)
                case UInt8(ascii: "\\"):
                    flush()
                    let escape = try next()
                    switch escape {
                    case UInt8(ascii: "u"): units.append(try hexUnit())
                    case UInt8(ascii: "n"): units.append(0x0A)
                    case UInt8(ascii: "t"): units.append(0x09)
                    case UInt8(ascii: "r"): units.append(0x0D)
                    case UInt8(ascii: "b"): units.append(0x08)
                    case UInt8(ascii: "f"): units.append(0x0C)
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): units.append(UInt16(escape))
                    default: throw Malformed()
                    }
                default:
                    raw.append(byte)
                }
            }
        }

        mutating func hexUnit() throws(Malformed) -> UInt16 {
            var value: UInt16 = 0
            for _ in 0..<4 {
                guard let digit = Character(Unicode.Scalar(try next())).hexDigitValue else { throw Malformed() }
                value = value * 16 + UInt16(digit)
            }
            return value
        }

        /// A number, `true`, `false` or `null`: their characters, up to the next delimiter.
        mutating func scalar() throws(Malformed) {
            let start = index
            while index < bytes.count, !Array(",]} \t\r\n".utf8).contains(bytes[index]) { index += 1 }
            guard index > start else { throw Malformed() }
        }
    }
}
