/// What the hall's speaker says when a counter calls a ticket, in Bahasa Indonesia, for
/// espeak-ng's Indonesian voice (`espeak-ng -v id`): offline, no network service.
/// "Nomor antrean A tiga puluh tujuh, silakan ke loket tiga."
public enum Announcement {
    /// The sentence for `label` (`A-037`) called to `counter` (`loket-3`, `3`, `Loket 3`).
    public static func text(label: String, counter: String) -> String {
        "Nomor antrean \(spoken(label)), silakan ke loket \(spoken(counter))."
    }

    /// Letters as they are, numbers as words, anything else a space: `A-037` → `A tiga puluh
    /// tujuh`, `loket-3` → `loket tiga`. Nothing but letters, digits' words and spaces reaches
    /// the speech synthesiser.
    static func spoken(_ text: String) -> String {
        var words: [String] = []
        var digits = ""
        var letters = ""
        func flush() {
            if let number = Int(digits) { words.append(Self.number(number)) }
            if !letters.isEmpty { words.append(letters) }
            digits = ""
            letters = ""
        }
        for character in text {
            if character.isASCII && character.isNumber {
                if !letters.isEmpty { flush() }
                digits.append(character)
            } else if character.isASCII && character.isLetter {
                if !digits.isEmpty { flush() }
                letters.append(character)
            } else {
                flush()
            }
        }
        flush()
        // A counter named `loket-3` is announced as "loket tiga" after "silakan ke loket".
        if words.first?.lowercased() == "loket" { words.removeFirst() }
        return words.joined(separator: " ")
    }

    static let units = ["nol", "satu", "dua", "tiga", "empat", "lima", "enam", "tujuh", "delapan", "sembilan"]

    /// Indonesian number words, 0 to 999,999: 11 `sebelas`, 37 `tiga puluh tujuh`, 100
    /// `seratus`, 1000 `seribu`, 2024 `dua ribu dua puluh empat`. Larger numbers digit by digit.
    public static func number(_ n: Int) -> String {
        switch n {
        case ..<0: return "minus " + number(-n)
        case 0..<10: return units[n]
        case 10: return "sepuluh"
        case 11: return "sebelas"
        case 12..<20: return units[n - 10] + " belas"
        case 20..<100: return units[n / 10] + " puluh" + (n % 10 == 0 ? "" : " " + units[n % 10])
        case 100..<200: return "seratus" + rest(n % 100)
        case 200..<1000: return units[n / 100] + " ratus" + rest(n % 100)
        case 1000..<2000: return "seribu" + rest(n % 1000)
        case 2000..<1_000_000: return number(n / 1000) + " ribu" + rest(n % 1000)
        default: return String(n).map { units[Int(String($0))!] }.joined(separator: " ")
        }
    }

    private static func rest(_ n: Int) -> String { n == 0 ? "" : " " + number(n) }
}
