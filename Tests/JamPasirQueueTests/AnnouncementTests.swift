import Foundation
import JamPasirTesting
import Testing

@testable import JamPasirQueue

@Suite("The call, spoken in the hall")
struct AnnouncementTests {
    @Test(arguments: [
        (0, "nol"), (7, "tujuh"), (10, "sepuluh"), (11, "sebelas"), (12, "dua belas"), (19, "sembilan belas"),
        (20, "dua puluh"), (37, "tiga puluh tujuh"), (100, "seratus"), (101, "seratus satu"),
        (115, "seratus lima belas"), (250, "dua ratus lima puluh"), (999, "sembilan ratus sembilan puluh sembilan"),
        (1000, "seribu"), (1001, "seribu satu"), (2024, "dua ribu dua puluh empat"),
        (12_345, "dua belas ribu tiga ratus empat puluh lima"),
    ])
    func numbersInBahasaIndonesia(number: Int, words: String) {
        #expect(Announcement.number(number) == words)
    }

    @Test func theCallNamesTicketAndCounter() {
        #expect(
            Announcement.text(label: "A-037", counter: "loket-3")
                == "Nomor antrean A tiga puluh tujuh, silakan ke loket tiga.")
        #expect(
            Announcement.text(label: "B-120", counter: "12") == "Nomor antrean B seratus dua puluh, silakan ke loket dua belas.")
    }

    @Test func onlyLettersAndNumberWordsReachTheSynthesiser() {
        let text = Announcement.text(label: "A-1;[[rm -rf]]<speak>", counter: "loket-2\u{1B}")
        #expect(text == "Nomor antrean A satu rm rf speak, silakan ke loket dua.")
    }

    /// espeak-ng's Indonesian voice renders it offline; sox says it is speech of a plausible
    /// length (a sentence of 13 words: 2 to 8 s) and not silence.
    @Test func espeakRendersTheCallAsSpeech() throws {
        let directory = try TemporaryDirectory("announce")
        let wav = directory.path + "/call.wav"
        let text = Announcement.text(label: "A-037", counter: "loket-3")
        #expect(try runTool("/usr/bin/espeak-ng", ["-v", "id", "-w", wav, text]).status == 0)
        let length = String(decoding: try runTool("/usr/bin/soxi", ["-D", wav]).output, as: UTF8.self)
        let seconds = Double(length.trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
        #expect((2.0...8.0).contains(seconds), "length \(seconds) s")
        // sox writes its statistics to standard error.
        let stat = String(decoding: try runTool("/bin/sh", ["-c", "sox '\(wav)' -n stat 2>&1"]).output, as: UTF8.self)
        let rms = stat.split(separator: "\n").first { $0.hasPrefix("RMS     amplitude") }
            .flatMap { Double($0.split(separator: " ").last ?? "") } ?? -1
        #expect(rms > 0.02, "RMS amplitude \(rms): silence?")
    }
}
