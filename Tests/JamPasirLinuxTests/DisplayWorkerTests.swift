import Foundation
import JamPasirCore
import JamPasirHardware
import JamPasirTesting
import Logging
import Synchronization
import Testing

final class GatedDisplay: SegmentDisplay, @unchecked Sendable {
    let gate = DispatchSemaphore(value: 0)
    let entered = DispatchSemaphore(value: 0)
    let shown = Mutex<[SegmentFrame]>([])
    let failuresLeft = Mutex(0)
    let blocking: Bool
    struct Broken: Error {}

    init(blocking: Bool) { self.blocking = blocking }

    func show(_ segments: SegmentFrame) throws {
        entered.signal()
        if blocking { gate.wait() }
        if failuresLeft.withLock({ left in
            defer { left = max(0, left - 1) }
            return left > 0
        }) {
            throw Broken()
        }
        shown.withLock { $0.append(segments) }
    }
}

@Suite("Display worker")
struct DisplayWorkerTests {
    @Test func aHungDisplayNeverBlocksTheCaller() {
        let display = GatedDisplay(blocking: true)
        let worker = DisplayWorker(name: "test", logger: Logger(label: "test")) { display }
        for seconds in stride(from: 120, through: 100, by: -1) {
            worker.show(SegmentFrame(.clock(seconds: seconds, negative: false)))  // returns at once
        }
        display.gate.signal()
        display.gate.signal()
        worker.finish(within: .seconds(60))  // returns as soon as the last write ended
        // Only the frame in progress and the latest one were written: no backlog.
        let shown = display.shown.withLock { $0 }
        #expect(shown.count <= 2)
        #expect(shown.last == SegmentFrame(.clock(seconds: 100, negative: false)))
    }

    @Test func finishWaitsForTheWriteInProgressNotJustForItsStart() {
        let display = GatedDisplay(blocking: true)
        let worker = DisplayWorker(name: "test", logger: Logger(label: "test")) { display }
        worker.show(SegmentFrame(DisplayFrame("    ")))  // e.g. the blank frame at shutdown
        display.entered.wait()  // the worker has taken the frame and is writing it
        Thread { display.gate.signal() }.start()
        worker.finish(within: .seconds(60))
        #expect(display.shown.withLock { $0 } == [SegmentFrame(DisplayFrame("    "))])
    }

    @Test func aFailingDisplayIsReopenedAndGetsTheLatestFrame() {
        let display = GatedDisplay(blocking: false)
        display.failuresLeft.withLock { $0 = 1 }
        let opened = Mutex(0)
        let worker = DisplayWorker(
            name: "test", logger: Logger(label: "test"),
            backoff: Backoff(first: .milliseconds(1), maximum: .milliseconds(2))
        ) {
            opened.withLock { $0 += 1 }
            return display
        }
        worker.show(SegmentFrame(DisplayFrame("2:00")))
        worker.finish(within: .seconds(60))
        #expect(worker.health == .ok)
        #expect(opened.withLock { $0 } == 2)
        #expect(display.shown.withLock { $0 } == [SegmentFrame(DisplayFrame("2:00"))])
    }

    @Test func retriesWaitOutTheBackoffOnTheCountersClock() async {
        let clock = ManualClock(now: .seconds(0))
        let display = GatedDisplay(blocking: false)
        display.failuresLeft.withLock { $0 = 2 }
        let opened = Mutex(0)
        let worker = DisplayWorker(name: "test", clock: clock, logger: Logger(label: "test")) {  // 1 s, 2 s, …
            opened.withLock { $0 += 1 }
            return display
        }
        worker.show(SegmentFrame(DisplayFrame("1:59")))
        await eventually("first write failed, a retry in 1 s") { clock.sleeperCount == 1 }
        #expect(worker.health == .failing("Broken()"))
        worker.show(SegmentFrame(DisplayFrame("1:58")))  // a newer frame does not hurry the retry
        clock.advance(to: .seconds(0.999))
        #expect(opened.withLock { $0 } == 1)
        clock.advance(to: .seconds(1))
        await eventually("second attempt failed, a retry in 2 s") { opened.withLock { $0 } == 2 && clock.sleeperCount == 1 }
        clock.advance(to: .seconds(3))
        await eventually("answers again") { worker.health == .ok }
        #expect(opened.withLock { $0 } == 3)
        #expect(display.shown.withLock { $0 } == [SegmentFrame(DisplayFrame("1:58"))])
        worker.finish(within: .seconds(1))
    }
}
