/// What a job's progress is measured in, for the CLI's bar and summary: keys when the job counted the keys it moves
/// (`keys_total`), bytes for a backup (`bytes_done`, of `bytes_total` when known), slots otherwise.
struct ProgressMeasure {
    enum Unit { case keys, bytes, slots }

    let unit: Unit
    let done: Int64
    let total: Int64
    let keys: Int
    let slotsDone: Int
    let slotsTotal: Int

    init(_ progress: [String: Any]) {
        keys = progress["keys_moved"] as? Int ?? 0
        slotsDone = progress["slots_done"] as? Int ?? 0
        slotsTotal = progress["slots_total"] as? Int ?? 0
        if let total = progress["keys_total"] as? Int, total > 0 {
            unit = .keys
            done = Int64(keys)
            self.total = Int64(total)
        } else if let written = progress["bytes_done"] as? Int {
            // A backup: bytes written, of a total only when the servers said it.
            unit = .bytes
            done = Int64(written)
            total = Int64(progress["bytes_total"] as? Int ?? 0)
        } else {
            unit = .slots
            done = Int64(slotsDone)
            total = Int64(slotsTotal)
        }
    }

    /// Done over total, within 0...1.
    var fraction: Double { total > 0 ? min(1, max(0, Double(done) / Double(total))) : 0 }

    /// "120 000/200 000 keys", then "12/4096 slots" (or "1.2 MB/3.4 MB" for bytes).
    var labels: [String] {
        switch unit {
        case .keys:
            return ["\(JobFollower.grouped(Int(done)))/\(JobFollower.grouped(Int(total))) keys", "\(slotsDone)/\(slotsTotal) slots"]
        case .bytes:
            return [total > 0 ? "\(Self.size(done))/\(Self.size(total))" : "\(Self.size(done)) written"]
        case .slots:
            return ["\(slotsDone)/\(slotsTotal) slots", "\(JobFollower.grouped(keys)) keys"]
        }
    }

    /// 1 234 567 bytes as "1.2 MB".
    static func size(_ bytes: Int64) -> String {
        let units = ["B", "KB", "MB", "GB", "TB"]
        var value = Double(bytes)
        var index = 0
        while value >= 1000 && index < units.count - 1 {
            value /= 1000
            index += 1
        }
        return index == 0 ? "\(bytes) B" : String(format: "%.1f %@", value, units[index])
    }
}
