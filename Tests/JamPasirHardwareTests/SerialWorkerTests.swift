import Foundation
import JamPasirHardware
import Synchronization
import Testing

@Suite("Serial worker: jobs in order on one plain thread")
struct SerialWorkerTests {
    @Test func jobsRunInOrderAndFlushWaitsForAllOfThem() {
        let worker = SerialWorker(name: "jp-test")
        let done = Mutex<[Int]>([])
        for index in 0..<1000 {
            worker.submit { done.withLock { $0.append(index) } }
        }
        worker.flush()
        #expect(done.withLock { $0 } == Array(0..<1000))
    }

    @Test func aJobSubmittedByAJobRunsAfterIt() {
        let worker = SerialWorker(name: "jp-test")
        let done = Mutex<[String]>([])
        worker.submit {
            worker.submit { done.withLock { $0.append("second") } }
            done.withLock { $0.append("first") }
        }
        worker.flush()  // queued behind the first job, ahead of the second
        worker.flush()
        #expect(done.withLock { $0 } == ["first", "second"])
    }

    @Test func allJobsRunOnTheSameThreadWhichIsNotTheCallers() {
        let worker = SerialWorker(name: "jp-test")
        let threads = Mutex<Set<UInt>>([])
        for _ in 0..<50 {
            worker.submit { threads.withLock { _ = $0.insert(pthread_self()) } }
        }
        worker.flush()
        #expect(threads.withLock { $0 }.count == 1)
        #expect(threads.withLock { $0 }.first != pthread_self())
    }
}
