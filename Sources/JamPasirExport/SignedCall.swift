import Crypto
import Foundation

/// A counter's call to the hub (`POST /v1/queue/call?counter=ID`), signed by its device key
/// over the method, the path, the counter, a call id and the counter's time. The hub takes the
/// counter from the key (`CallGate`), never from the query alone; it refuses a call it has seen
/// or one older than the counter waits for its answer, so a call the counter gave up on is
/// never carried out. No secret is shared: every counter signs with its own key, which the hub
/// already trusts for its exports.
public struct SignedCall: Equatable, Sendable {
    public static let method = "POST"
    public static let path = "/v1/queue/call"
    /// How long a counter waits for the hub's answer; a call older than this is refused.
    public static let deadline = Duration.seconds(3)

    public var counterID: String
    /// Only ask whether the hub would take this counter's calls (`?counter=ID&check=1`); signed,
    /// so a check cannot be turned into a call, nor a call into a check.
    public var check: Bool
    /// 32 hexadecimal digits, new for each call.
    public var callID: String
    /// The counter's wall clock at signing, in milliseconds since 1970.
    public var issuedAtMs: Int64
    /// Base64 Ed25519 public key.
    public var publicKey: String
    /// Base64 Ed25519 signature over `message`.
    public var signature: String

    /// The headers the call carries besides `?counter=ID`. Headers of its own also keep a web
    /// page elsewhere on the LAN from sending one (a CORS preflight, which the hub never grants).
    public enum Header {
        public static let key = "x-jampasir-key"
        public static let call = "x-jampasir-call"
        public static let time = "x-jampasir-time"
        public static let signature = "x-jampasir-signature"
        public static let all = [key, call, time, signature]
    }

    public var target: String { "\(Self.path)?counter=\(counterID)" + (check ? "&check=1" : "") }

    public var headers: [String: String] {
        [Header.key: publicKey, Header.call: callID, Header.time: String(issuedAtMs), Header.signature: signature]
    }

    /// What is signed: one line per field, so no field can run into the next.
    static func message(counterID: String, check: Bool, callID: String, issuedAtMs: Int64) -> Data {
        Data("jampasir-call-v1\n\(method)\n\(path)\n\(counterID)\n\(check ? "check" : "call")\n\(callID)\n\(issuedAtMs)\n".utf8)
    }

    /// A new call (or check) from this counter at `now`.
    public init(counterID: String, key: DeviceKey, at now: Date, check: Bool = false) throws {
        var id = SystemRandomNumberGenerator()
        callID = (0..<2).map { _ in String(format: "%016llx", id.next() as UInt64) }.joined()
        self.counterID = counterID
        self.check = check
        issuedAtMs = Int64((now.timeIntervalSince1970 * 1000).rounded(.down))
        publicKey = key.publicKeyBase64
        signature = try key.sign(Self.message(counterID: counterID, check: check, callID: callID, issuedAtMs: issuedAtMs))
            .base64EncodedString()
    }

    /// Why a request is not a signed call.
    public enum Problem: Error, Equatable, CustomStringConvertible {
        case unsigned
        case malformed(String)
        case badSignature

        public var description: String {
            switch self {
            case .unsigned:
                "an unsigned call: counters sign their calls with their device key (X-JamPasir-Key, -Call, -Time, -Signature); queue.token is no longer used"
            case .malformed(let what): "a call with \(what)"
            case .badSignature: "the call's signature does not verify with its key"
            }
        }
    }

    /// The call a request carries (`counter`, `check`: from its query; `headers`: lower-case
    /// names), its signature checked against its own key: who holds that key is `CallGate`'s
    /// question.
    public init(counter: String, check: Bool, headers: [String: String]) throws(Problem) {
        let present = Header.all.compactMap { headers[$0] }
        guard !present.isEmpty else { throw .unsigned }
        guard present.count == Header.all.count else { throw .malformed("some of its signature headers missing") }
        guard let key = TrustedSigners.canonical(headers[Header.key]!) else {
            throw .malformed("an X-JamPasir-Key that is not a base64 Ed25519 public key")
        }
        let call = headers[Header.call]!
        guard call.utf8.count == 32, call.utf8.allSatisfy({ (48...57).contains($0) || (97...102).contains($0) }) else {
            throw .malformed("an X-JamPasir-Call that is not 32 lower-case hexadecimal digits")
        }
        guard let time = headers[Header.time], time.utf8.count <= 15, time.utf8.allSatisfy({ (48...57).contains($0) }),
            let ms = Int64(time)
        else { throw .malformed("an X-JamPasir-Time that is not milliseconds since 1970") }
        guard let signature = Data(base64Encoded: headers[Header.signature]!), signature.count == 64,
            let publicKey = try? Curve25519.Signing.PublicKey(rawRepresentation: Data(base64Encoded: key)!),
            publicKey.isValidSignature(
                signature, for: Self.message(counterID: counter, check: check, callID: call, issuedAtMs: ms))
        else { throw .badSignature }
        counterID = counter
        self.check = check
        callID = call
        issuedAtMs = ms
        self.publicKey = key
        self.signature = signature.base64EncodedString()
    }
}
