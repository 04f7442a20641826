/// A small TOML reader for the configuration file, keeping the line of every key so that an
/// error can point at it. It reads the subset a configuration needs: `[table]` headers, bare or
/// quoted keys, strings, integers (also hex, octal, binary, with `_`), floats, booleans and
/// one-line arrays. Anything else is refused with the line that has it, not misread.
public struct TOMLDocument: Sendable {
    public indirect enum Value: Equatable, Sendable {
        case string(String)
        case integer(Int64)
        case float(Double)
        case boolean(Bool)
        case array([Value])

        public var typeName: String {
            switch self {
            case .string: "a string"
            case .integer: "an integer"
            case .float: "a decimal number"
            case .boolean: "true or false"
            case .array: "an array"
            }
        }
    }

    public struct Entry: Sendable {
        public var table: String
        public var key: String
        public var value: Value
        public var line: Int
        /// `table.key`, as the README and error messages name it.
        public var path: String { table.isEmpty ? key : "\(table).\(key)" }
    }

    public struct SyntaxError: Error, Equatable, Sendable {
        public var line: Int
        /// `table.key` when the error is in a value.
        public var key: String? = nil
        public var message: String
    }

    /// Arrays nest at most this deep: the parser recurses once per level, and a file of
    /// thousands of `[` must be an error, not a stack overflow.
    public static let maximumArrayDepth = 8

    public private(set) var entries: [Entry] = []
    /// Table headers with the line they are on.
    public private(set) var tables: [(name: String, line: Int)] = []

    public init(parsing text: String) throws(SyntaxError) {
        var table = ""
        var seen: [String: Int] = [:]
        var seenTables: Set<String> = []
        for (index, rawLine) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let number = index + 1
            var scanner = Scanner(Substring(rawLine.hasSuffix("\r") ? rawLine.dropLast() : rawLine), line: number)
            scanner.skipSpace()
            if scanner.atEndOrComment { continue }
            if scanner.peek == "[" {
                table = try scanner.tableHeader()
                if !seenTables.insert(table).inserted {
                    throw SyntaxError(line: number, message: "table [\(table)] appears twice")
                }
                tables.append((table, number))
                continue
            }
            let key = try scanner.key()
            scanner.skipSpace()
            guard scanner.take("=") else {
                throw SyntaxError(line: number, message: "expected '=' after key '\(key)'")
            }
            scanner.skipSpace()
            let path = table.isEmpty ? key : "\(table).\(key)"
            let value: Value
            do {
                value = try scanner.value()
            } catch {
                throw SyntaxError(line: number, key: path, message: error.message)
            }
            scanner.skipSpace()
            guard scanner.atEndOrComment else {
                throw SyntaxError(line: number, message: "unexpected text after the value of '\(key)'")
            }
            let entry = Entry(table: table, key: key, value: value, line: number)
            if let first = seen[entry.path] {
                throw SyntaxError(line: number, message: "key '\(entry.path)' is already set on line \(first)")
            }
            seen[entry.path] = number
            entries.append(entry)
        }
    }
}

/// Reads one line of TOML.
private struct Scanner {
    var rest: Substring
    let line: Int

    init(_ text: Substring, line: Int) {
        rest = text
        self.line = line
    }

    var peek: Character? { rest.first }
    var atEndOrComment: Bool { rest.isEmpty || rest.first == "#" }

    mutating func skipSpace() {
        rest = rest.drop { $0 == " " || $0 == "\t" }
    }

    mutating func take(_ character: Character) -> Bool {
        guard rest.first == character else { return false }
        rest = rest.dropFirst()
        return true
    }

    func fail(_ message: String) -> TOMLDocument.SyntaxError {
        TOMLDocument.SyntaxError(line: line, message: message)
    }

    mutating func tableHeader() throws(TOMLDocument.SyntaxError) -> String {
        _ = take("[")
        if peek == "[" { throw fail("arrays of tables ([[...]]) are not used in this file") }
        skipSpace()
        var parts: [String] = []
        repeat {
            skipSpace()
            parts.append(try key())
            skipSpace()
        } while take(".")
        guard take("]") else { throw fail("expected ']' to close the table header") }
        skipSpace()
        guard atEndOrComment else { throw fail("unexpected text after the table header") }
        return parts.joined(separator: ".")
    }

    mutating func key() throws(TOMLDocument.SyntaxError) -> String {
        if peek == "\"" { return try basicString() }
        if peek == "'" { return try literalString() }
        let bare = rest.prefix { $0.isLetter && $0.isASCII || $0.isNumber && $0.isASCII || $0 == "_" || $0 == "-" }
        guard !bare.isEmpty else { throw fail("expected a key (letters, digits, '_' or '-')") }
        rest = rest.dropFirst(bare.count)
        if peek == "." { throw fail("dotted keys are not used in this file: put '\(bare)' under a [table] header") }
        return String(bare)
    }

    mutating func value(depth: Int = 0) throws(TOMLDocument.SyntaxError) -> TOMLDocument.Value {
        guard let first = peek else { throw fail("missing value after '='") }
        switch first {
        case "\"":
            if rest.hasPrefix("\"\"\"") { throw fail("multi-line strings are not used in this file") }
            return .string(try basicString())
        case "'":
            if rest.hasPrefix("'''") { throw fail("multi-line strings are not used in this file") }
            return .string(try literalString())
        case "[":
            guard depth < TOMLDocument.maximumArrayDepth else {
                throw fail(
                    "arrays nested more than \(TOMLDocument.maximumArrayDepth) deep are not used in this file: a value is a string, a number, a boolean or an array of them"
                )
            }
            return try array(depth: depth + 1)
        case "{":
            throw fail("inline tables are not used in this file: use a [table] header")
        default:
            let token = rest.prefix { !" \t,]#".contains($0) }
            rest = rest.dropFirst(token.count)
            return try scalar(String(token))
        }
    }

    private mutating func array(depth: Int) throws(TOMLDocument.SyntaxError) -> TOMLDocument.Value {
        _ = take("[")
        var items: [TOMLDocument.Value] = []
        while true {
            skipSpace()
            if take("]") { return .array(items) }
            if rest.isEmpty || peek == "#" { throw fail("an array must be closed on the same line") }
            items.append(try value(depth: depth))
            skipSpace()
            if take(",") { continue }
            if rest.isEmpty || peek == "#" { throw fail("an array must be closed on the same line") }
            guard take("]") else { throw fail("expected ',' or ']' in the array") }
            return .array(items)
        }
    }

    private func scalar(_ token: String) throws(TOMLDocument.SyntaxError) -> TOMLDocument.Value {
        switch token {
        case "true": return .boolean(true)
        case "false": return .boolean(false)
        case "": throw fail("missing value")
        default: break
        }
        let digits = String(token.filter { $0 != "_" })
        for (prefix, radix) in [("0x", 16), ("0o", 8), ("0b", 2)] where digits.hasPrefix(prefix) {
            guard let value = Int64(digits.dropFirst(2), radix: radix) else {
                throw fail("'\(token)' is not a valid number")
            }
            return .integer(value)
        }
        if let integer = Int64(digits) { return .integer(integer) }
        if digits.contains(where: { ".eE".contains($0) }), let double = Double(digits), double.isFinite,
            digits.last?.isNumber == true, digits.first != "."
        {
            return .float(double)
        }
        throw fail("'\(token)' is not a valid value (strings need \"quotes\")")
    }

    private mutating func literalString() throws(TOMLDocument.SyntaxError) -> String {
        _ = take("'")
        guard let end = rest.firstIndex(of: "'") else { throw fail("unterminated string") }
        let text = String(rest[..<end])
        rest = rest[rest.index(after: end)...]
        return text
    }

    private mutating func basicString() throws(TOMLDocument.SyntaxError) -> String {
        _ = take("\"")
        var text = ""
        while let character = rest.first {
            rest = rest.dropFirst()
            switch character {
            case "\"":
                return text
            case "\\":
                guard let escape = rest.first else { throw fail("unterminated string") }
                rest = rest.dropFirst()
                switch escape {
                case "\"": text.append("\"")
                case "\\": text.append("\\")
                case "n": text.append("\n")
                case "t": text.append("\t")
                case "r": text.append("\r")
                case "u", "U":
                    let width = escape == "u" ? 4 : 8
                    let hex = rest.prefix(width)
                    guard hex.count == width, let code = UInt32(hex, radix: 16), let scalar = Unicode.Scalar(code)
                    else {
                        throw fail("invalid \\\(escape) escape in string")
                    }
                    rest = rest.dropFirst(width)
                    text.unicodeScalars.append(scalar)
                default:
                    throw fail("invalid escape '\\\(escape)' in string")
                }
            default:
                text.append(character)
            }
        }
        throw fail("unterminated string")
    }
}
