import Foundation

/// What one update from a supervisor's stick did on a counter (`jampasir update-install`), as
/// `name: value` lines: in the counter's `receipts/latest` (under `update.state`) and on the
/// stick as `JAMPASIR/update/receipts/<counter id>`. The daemon chains an installed one at its
/// next start (an `update` entry), so the chain says which version recorded which sessions.
public struct UpdateReceipt: Equatable, Sendable {
    public var counterID: String
    public var from: String?
    public var to: String?
    public var at: Date
    /// `installed`, `already installed`, `rolled back: why` (from the version that did not start
    /// to the one kept before it), or `refused UPdN: the reason`.
    public var result: String

    public static let installed = "installed"
    public static let current = "already installed"
    public static let rolledBack = "rolled back"

    public init(counterID: String, from: String?, to: String?, at: Date, result: String) {
        self.counterID = counterID
        self.from = from
        self.to = to
        self.at = at
        self.result = result
    }

    public var text: String {
        """
        counter: \(counterID)
        from: \(from ?? "none")
        to: \(to ?? "none")
        at: \(at.ISO8601Format())
        result: \(result)

        """
    }

    /// The counter's receipts, newest as `latest`.
    public static func latestPath(state: String) -> String { state + "/receipts/latest" }

    public struct Invalid: Error, CustomStringConvertible {
        public var description: String
    }

    /// Reads a receipt; anything but the five lines, or a version dpkg would not write, is refused.
    public init(parsing text: String) throws(Invalid) {
        var values: [String: String] = [:]
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: ":", maxSplits: 1)
            guard parts.count == 2 else { throw Invalid(description: "a line is not `name: value`") }
            guard values[String(parts[0])] == nil else { throw Invalid(description: "\(parts[0]) is given twice") }
            values[String(parts[0])] = parts[1].trimmingCharacters(in: .whitespaces)
        }
        guard let counterID = values["counter"], let from = values["from"], let to = values["to"],
            let atText = values["at"], let result = values["result"], values.count == 5
        else { throw Invalid(description: "it does not hold exactly counter, from, to, at and result") }
        guard let at = try? Date(atText, strategy: .iso8601) else { throw Invalid(description: "its time is not ISO 8601") }
        func version(_ text: String) throws(Invalid) -> String? {
            if text == "none" { return nil }
            guard !text.isEmpty, text.count <= 128, text.allSatisfy({ $0.isASCII && ($0.isLetter || $0.isNumber || ".+~:-".contains($0)) })
            else { throw Invalid(description: "\(text.debugDescription) is not a package version") }
            return text
        }
        self.init(counterID: counterID, from: try version(from), to: try version(to), at: at, result: result)
    }

    /// The counter's latest receipt; nil when it has none (never updated from a stick).
    public static func latest(state: String) throws(Invalid) -> UpdateReceipt? {
        let path = latestPath(state: state)
        guard FileManager.default.fileExists(atPath: path) else { return nil }
        guard let data = FileManager.default.contents(atPath: path), data.count <= 4096 else {
            throw Invalid(description: "\(path) cannot be read, or is larger than a receipt")
        }
        do {
            return try UpdateReceipt(parsing: String(decoding: data, as: UTF8.self))
        } catch {
            throw Invalid(description: "\(path): \(error.description)")
        }
    }

    /// The `update` chain entry's fields for an installed update or a rollback (marked
    /// `;rolled-back`); nil for any other result.
    public var chainFields: String? {
        guard let to else { return nil }
        let fields = "from=\(from ?? "null");to=\(to);at=\(at.ISO8601Format())"
        if result == Self.installed { return fields }
        if result.hasPrefix(Self.rolledBack + ":") { return fields + ";rolled-back" }
        return nil
    }
}
