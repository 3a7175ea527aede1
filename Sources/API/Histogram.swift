import Foundation

/// A Prometheus histogram with fixed buckets, one series per label set. Label sets come from fixed sets chosen by
/// the caller (route templates, job types and outcomes), never from what a client sent. Thread-safe.
final class Histogram: @unchecked Sendable {
    let name: String
    let help: String
    let buckets: [Double]
    private struct Series {
        var counts: [Int]
        var sum: Double = 0
        var count = 0
    }

    private let lock = NSLock()
    private var series: [String: Series] = [:]

    init(name: String, help: String, buckets: [Double]) {
        self.name = name
        self.help = help
        self.buckets = buckets.sorted()
    }

    /// `labels` is the rendered label list, e.g. `route="/jobs/{id}",method="GET"`.
    func observe(_ value: Double, labels: String) {
        lock.lock()
        defer { lock.unlock() }
        var entry = series[labels] ?? Series(counts: [Int](repeating: 0, count: buckets.count))
        for (index, bound) in buckets.enumerated() where value <= bound {
            entry.counts[index] += 1
        }
        entry.sum += value
        entry.count += 1
        series[labels] = entry
    }

    func lines() -> [String] {
        lock.lock()
        defer { lock.unlock() }
        var out = ["# HELP \(name) \(help)", "# TYPE \(name) histogram"]
        for labels in series.keys.sorted() {
            let entry = series[labels]!
            let prefix = labels.isEmpty ? "" : labels + ","
            for (index, bound) in buckets.enumerated() {
                out.append("\(name)_bucket{\(prefix)le=\"\(Self.format(bound))\"} \(entry.counts[index])")
            }
            out.append("\(name)_bucket{\(prefix)le=\"+Inf\"} \(entry.count)")
            out.append("\(name)_sum{\(labels)} \(Self.format(entry.sum))")
            out.append("\(name)_count{\(labels)} \(entry.count)")
        }
        return out
    }

    static func format(_ value: Double) -> String {
        value == value.rounded() && abs(value) < 1e15 ? String(Int(value)) : String(value)
    }
}

/// A label value escaped for the text format (backslash, quote, newline).
func labelValue(_ text: String) -> String {
    text.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"")
        .replacingOccurrences(of: "\n", with: "\\n")
}
