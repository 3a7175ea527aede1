import Foundation
import Testing

/// Small helpers shared by the job integration tests.
extension HTTPTestClient {
    /// Submits a job and returns its id (expects 202).
    func submit(_ cluster: String, _ type: String, _ body: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> Int {
        let response = try post("/clusters/\(cluster)/\(type)", body)
        #expect(response.status == 202, "\(type) answered \(response.status): \(response.text)", sourceLocation: sourceLocation)
        guard let id = response.object["id"] as? Int else { throw TestFailure("\(type): no job id in \(response.text)") }
        return id
    }

    /// Long-polls until the job ends; returns it.
    func waitForJob(_ id: Int, timeout: Int = 120) throws -> [String: Any] {
        let deadline = Date().addingTimeInterval(Double(timeout))
        while Date() < deadline {
            let job = try get("/jobs/\(id)?wait=30").object
            if let status = job["status"] as? String, ["succeeded", "failed", "cancelled"].contains(status) { return job }
        }
        throw TestFailure("job \(id) did not end within \(timeout)s")
    }

    /// Runs a job to its end and expects success, reporting the error and events otherwise.
    @discardableResult
    func runJob(_ cluster: String, _ type: String, _ body: String, timeout: Int = 120,
                sourceLocation: SourceLocation = #_sourceLocation) throws -> [String: Any] {
        let id = try submit(cluster, type, body, sourceLocation: sourceLocation)
        let job = try waitForJob(id, timeout: timeout)
        if job["status"] as? String != "succeeded" {
            let events = (try? get("/jobs/\(id)/events").text) ?? ""
            Issue.record("\(type) job \(id) ended \(job["status"] ?? "?"): \(job["error"] ?? "") events: \(events)",
                         sourceLocation: sourceLocation)
        }
        return job
    }

    func topology(_ cluster: String) throws -> [String: Any] {
        try get("/clusters/\(cluster)/topology").object
    }
}

extension TestCluster {
    /// `redis-cli --cluster check` from `node` is clean: slots agree, all covered, no open slot, no error.
    func expectClean(from node: RedisNodeProcess, sourceLocation: SourceLocation = #_sourceLocation) {
        let output = check(node)
        let clean = output.contains("[OK] All nodes agree about slots configuration.")
            && output.contains("[OK] All 16384 slots covered.") && !output.contains("[ERR]") && !output.contains("[WARNING]")
        #expect(clean, "redis-cli --cluster check is not clean:\n\(output)", sourceLocation: sourceLocation)
    }

    /// No node reports an importing or migrating slot.
    func openSlotMarkers() -> [String] {
        nodes.filter(\.isRunning).flatMap { node in
            ((try? node.cli(["CLUSTER", "NODES"])) ?? "").split(separator: "\n").filter { $0.contains("[") }.map(String.init)
        }
    }
}

/// Master nodes of a topology answer, by address.
func masters(_ topology: [String: Any]) -> [String: [String: Any]] {
    var result: [String: [String: Any]] = [:]
    for node in topology["nodes"] as? [[String: Any]] ?? [] where node["role"] as? String == "master" {
        if let address = node["address"] as? String { result[address] = node }
    }
    return result
}

extension TestCluster {
    /// After a job: `redis-cli --cluster check` is clean and no node has an importing or migrating slot.
    func expectSettled(from node: RedisNodeProcess, sourceLocation: SourceLocation = #_sourceLocation) {
        expectClean(from: node, sourceLocation: sourceLocation)
        let open = openSlotMarkers()
        #expect(open.isEmpty, "open slots after the job:\n\(open.joined(separator: "\n"))", sourceLocation: sourceLocation)
    }
}

/// The migration method a job's plan names (`"method"` of the plan), with the plan's text for messages.
func planMethod(_ job: [String: Any]) -> (method: String?, plan: String) {
    let plan = job["plan"] as? [String: Any] ?? [:]
    let text = (try? JSONSerialization.data(withJSONObject: plan, options: [.sortedKeys]))
        .map { String(decoding: $0, as: UTF8.self) } ?? "\(plan)"
    return (plan["method"] as? String, text.count > 600 ? String(text.prefix(600)) + "…" : text)
}

/// Slots of a topology node's `slots` ranges ([[first, last], ...]).
func slotSet(_ ranges: [[Int]]) -> Set<Int> {
    Set(ranges.flatMap { $0.count == 2 ? Array($0[0]...$0[1]) : [] })
}
