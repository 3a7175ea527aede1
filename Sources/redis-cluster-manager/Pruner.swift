import Dispatch
import Foundation
import Jobs
import Store

/// Prunes, at start and every hour, the events and snapshots of jobs that finished more than `retainDays` ago
/// (never a queued or running job's), backups started more than `retainDays` ago (never one still being written),
/// and Idempotency-Keys past their 24 hours, so the database and the backup directory stop growing with history
/// nobody keeps.
/// @unchecked: the timer is set up once in start() and only cancelled after.
final class Pruner: @unchecked Sendable {
    let store: Store
    let retainDays: Int
    let backups: BackupDirectory?
    let log: @Sendable (String) -> Void
    private let timer: any DispatchSourceTimer

    init(store: Store, retainDays: Int, backups: BackupDirectory? = nil, log: @escaping @Sendable (String) -> Void) {
        self.backups = backups
        self.store = store
        self.retainDays = retainDays
        self.log = log
        timer = DispatchSource.makeTimerSource(queue: DispatchQueue(label: "pruner", qos: .background))
    }

    func start() {
        timer.schedule(deadline: .now() + 1, repeating: .seconds(3600), leeway: .seconds(60))
        timer.setEventHandler { [self] in pruneOnce() }
        timer.resume()
    }

    func stop() {
        timer.cancel()
    }

    private func pruneOnce() {
        let cutoff = Date().addingTimeInterval(-Double(retainDays) * 86_400)
        do {
            _ = try store.pruneIdempotencyKeys()
            guard retainDays > 0 else { return }
            let result = try store.prune(before: cutoff)
            if result.events > 0 || result.snapshots > 0 {
                log("pruned \(result.events) events and \(result.snapshots) snapshots older than \(retainDays) days")
            }
            let removed = backups?.prune(startedBefore: cutoff) { jobId in
                let status = (try? store.job(jobId))??.status
                return status == .queued || status == .running
            } ?? []
            if !removed.isEmpty {
                log("removed \(removed.count) backups older than \(retainDays) days: \(removed.joined(separator: ", "))")
            }
        } catch {
            log("pruning failed (will try again in an hour): \(error)")
        }
    }
}

/// A tokens file others can read gives their tokens away: say so at start and on every reload.
enum TokensFileMode {
    static func warnIfShared(_ path: String, log: (String) -> Void) {
        var info = stat()
        if stat(path, &info) == 0, info.st_mode & 0o077 != 0 {
            log("warning: tokens file \(path) is readable by group or others (mode \(String(info.st_mode & 0o777, radix: 8))); chmod 600 it")
        }
    }
}
