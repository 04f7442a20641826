import JamPasirCore
import Testing

@Suite("Debounce, long press and stuck button")
struct GestureRecognizerTests {
    @Test func bounceBurstOnPressAndReleaseGivesOneSession() {
        var h = EngineHarness()
        let bouncyPress: [EngineHarness.Input] = [.down(1.000), .up(1.004), .down(1.009), .up(1.012), .down(1.020)]
        let bouncyRelease: [EngineHarness.Input] = [.up(1.150), .down(1.153), .up(1.160)]
        h.run(bouncyPress + bouncyRelease, until: 5)
        #expect(h.starts == [.seconds(1.0)])
        #expect(h.engine.recognizer.ignoredEdges == 6)
    }

    @Test func edgeJustOutsideTheWindowIsAccepted() {
        var recognizer = GestureRecognizer(rules: ServiceRules())
        #expect(recognizer.edge(ButtonEdge(.pressed, at: .seconds(1))).isEmpty)
        #expect(
            recognizer.edge(ButtonEdge(.released, at: .seconds(1.030))) == [
                .press(downAt: .seconds(1), upAt: .seconds(1.030))
            ])
    }

    @Test func noiseSpikeIsNotAPressAndDoesNotLeaveTheButtonHeld() {
        var h = EngineHarness()
        h.run([.down(5.0), .up(5.000_001)], until: 60)
        #expect(h.starts.isEmpty)
        #expect(h.sounds.isEmpty)  // no long press, no stuck fault
        #expect(!h.engine.recognizer.isHeld)
    }

    @Test func stuckButtonShowsFaultUntilReleased() {
        var h = EngineHarness()
        h.run([.down(10), .up(55)], until: 60)
        #expect(h.sounds.map(\.pattern) == [.fault])
        #expect(h.sounds[0].at == .seconds(40))
        #expect(h.frame(at: 39.9) == "2:00")
        #expect(h.frame(at: 40) == "Err1")
        #expect(h.frame(at: 55) == "2:00")
        #expect(h.starts.isEmpty)
    }

    @Test func stuckDuringSessionCancelsAtTwoSecondsThenFaults() {
        var h = EngineHarness()
        h.run(EngineHarness.Input.tap(0) + [.down(20), .up(80)], until: 90)
        #expect(h.ends.map(\.outcome) == [.cancelled])
        #expect(h.sounds.map(\.pattern) == [.start, .cancel, .fault])
        #expect(h.sounds[1].at == .seconds(22))
        #expect(h.sounds[2].at == .seconds(50))
        // Presses are ignored while stuck; after release the counter is usable again.
        #expect(h.starts.count == 1)
    }

    @Test func outOfOrderTimestampIsIgnored() {
        var recognizer = GestureRecognizer(rules: ServiceRules())
        _ = recognizer.edge(ButtonEdge(.pressed, at: .seconds(2)))
        #expect(recognizer.edge(ButtonEdge(.released, at: .seconds(1))).isEmpty)
        #expect(recognizer.isHeld)
    }

    @Test func longPressRecognisedWhileHeldAtItsExactInstant() {
        var recognizer = GestureRecognizer(rules: ServiceRules())
        _ = recognizer.edge(ButtonEdge(.pressed, at: .seconds(3)))
        #expect(recognizer.nextWake == .seconds(5))
        #expect(recognizer.advance(to: .seconds(7)) == [.longPress(downAt: .seconds(3), recognizedAt: .seconds(5))])
        #expect(recognizer.edge(ButtonEdge(.released, at: .seconds(8))).isEmpty)
    }
}
