import ArgumentParser
import Foundation

struct Clusters: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List the registered clusters.", discussion: ExitCodes.help)
    @OptionGroup var client: ClientOptions

    func run() throws {
        try runCLI {
            let response = try client.expectSuccess(try client.client().get("/clusters"))
            if client.json { return client.printJSON(response) }
            let items = response.object["items"] as? [[String: Any]] ?? []
            let rows = items.map { item in
                [item["id"] as? String ?? "", (item["seeds"] as? [String] ?? []).joined(separator: ","),
                 (item["has_password"] as? Bool ?? false) ? "yes" : "no", item["created_by"] as? String ?? "",
                 item["created_at"] as? String ?? ""].map { TerminalText.safe($0) }
            }
            print(Table.render(header: ["ID", "SEEDS", "PASSWORD", "REGISTERED BY", "AT"], rows: rows))
        }
    }
}

struct Register: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Register a cluster (the service checks a seed answers).",
                                                    discussion: ExitCodes.help)
    @Argument(help: "An id for the cluster: a-z, 0-9 and -.") var id: String
    @Option(help: "A node of the cluster, host:port (repeat for more).") var seed: [String]
    @Option(help: "ACL user name.") var username: String?
    @Option(help: "File holding the password (its first line). Env: RCM_CLUSTER_PASSWORD.") var passwordFile: String?
    @OptionGroup var client: ClientOptions

    func validate() throws {
        guard !seed.isEmpty else { throw ValidationError("give at least one --seed host:port") }
    }

    func run() throws {
        try runCLI {
            var body: [String: Any] = ["id": id, "seeds": seed.flatMap { $0.split(separator: ",").map(String.init) }]
            if let username { body["username"] = username }
            if let password = try password(file: passwordFile, variable: "RCM_CLUSTER_PASSWORD") { body["password"] = password }
            let response = try client.expectSuccess(try client.client().post("/clusters", json: body))
            if client.json { return client.printJSON(response) }
            print("registered \(TerminalText.safe(id)) (\(TerminalText.safe((response.object["seeds"] as? [String] ?? []).joined(separator: ", "))))")
        }
    }
}

struct Topology: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "A cluster's live topology and checks, as redis-cli --cluster check shows them.",
                                                    discussion: ExitCodes.help)
    @Argument(help: "The registered cluster's id.") var cluster: String
    @OptionGroup var client: ClientOptions

    func run() throws {
        try runCLI {
            let response = try client.expectSuccess(try client.client().get("/clusters/\(JobOptions.escape(cluster))/topology"))
            if client.json { return client.printJSON(response) }
            print(TopologyTable.render(response.object, style: .stdout))
        }
    }
}

struct Info: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Keys, slots and replicas per master, as redis-cli --cluster info.",
                                                    discussion: ExitCodes.help)
    @Argument(help: "The registered cluster's id.") var cluster: String
    @OptionGroup var client: ClientOptions

    func run() throws {
        try runCLI {
            let response = try client.expectSuccess(try client.client().get("/clusters/\(JobOptions.escape(cluster))/info"))
            if client.json { return client.printJSON(response) }
            for master in response.object["masters"] as? [[String: Any]] ?? [] {
                let keys = (master["keys"] as? Int).map(String.init) ?? "?"
                print("\(master["address"] as? String ?? "") (\(String((master["id"] as? String ?? "").prefix(8)))...) -> \(keys) keys | "
                      + "\(master["slots"] as? Int ?? 0) slots | \(master["replicas"] as? Int ?? 0) replicas.")
            }
            print(Style.stdout.green(response.object["message"] as? String ?? ""))
        }
    }
}

struct Jobs: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "The job history, newest first.", discussion: ExitCodes.help)
    @Option(name: .customLong("cluster"), help: "Only this cluster's jobs.") var clusterId: String?
    @Option(help: "queued, running, succeeded, failed or cancelled.") var status: String?
    @Option(help: "Only jobs of this kind (reshard, fix, ...).") var type: String?
    @Option(help: "Created at or after (RFC 3339).") var since: String?
    @Option(help: "Created before (RFC 3339).") var until: String?
    @Option(help: "At most this many (1-500).") var limit: Int = 20
    @OptionGroup var client: ClientOptions

    func run() throws {
        try runCLI {
            var query: [String] = ["limit=\(limit)"]
            for (name, value) in [("cluster_id", clusterId), ("status", status), ("type", type), ("since", since), ("until", until)] {
                if let value { query.append("\(name)=\(JobOptions.escape(value))") }
            }
            let response = try client.expectSuccess(try client.client().get("/jobs?" + query.joined(separator: "&")))
            if client.json { return client.printJSON(response) }
            let style = Style.stdout
            let rows = (response.object["items"] as? [[String: Any]] ?? []).map { job -> [String] in
                let progress = job["progress"] as? [String: Any] ?? [:]
                let total = progress["slots_total"] as? Int ?? 0
                let status = job["status"] as? String ?? ""
                let coloured = status == "succeeded" ? style.green(status) : status == "failed" ? style.red(status)
                    : status == "cancelled" ? style.yellow(status) : status
                return ["\(job["id"] as? Int ?? 0)", TerminalText.safe(job["type"] as? String ?? ""),
                        TerminalText.safe(job["cluster_id"] as? String ?? ""), coloured,
                        total > 0 ? "\(progress["slots_done"] as? Int ?? 0)/\(total)" : "-",
                        TerminalText.safe(job["actor"] as? String ?? ""), TerminalText.safe(job["created_at"] as? String ?? "")]
            }
            print(Table.render(header: ["ID", "TYPE", "CLUSTER", "STATUS", "SLOTS", "ACTOR", "CREATED"], rows: rows))
        }
    }
}

struct Job: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "One job; with --follow, its live events until it ends.",
        discussion: "The exit code says how the job ended (0 succeeded or still going without --follow, 1 failed, 3 cancelled). "
            + ExitCodes.help)
    @Argument(help: "The job's id.") var id: Int
    @Flag(help: "Follow its live events until it ends.") var follow = false
    @OptionGroup var client: ClientOptions

    func run() throws {
        try runCLI {
            let service = try client.client()
            var job = try client.expectSuccess(try service.get("/jobs/\(id)")).object
            if follow, !["succeeded", "failed", "cancelled"].contains(job["status"] as? String ?? "") {
                job = try JobFollower(client: service, quiet: client.json).follow(jobId: id)
            }
            if client.json {
                printObject(job)
            } else {
                print(JobOutcome.summary(job))
                if let error = job["error"] as? [String: Any] {
                    print("  " + TerminalText.safe("\(error["code"] as? String ?? ""): \(error["message"] as? String ?? "")"))
                }
                if let verification = JobOutcome.verification(job) { print(verification) }
            }
            try JobOutcome.check(job)
        }
    }
}

struct Cancel: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Cancel a job: a queued one at once, a running one at its next safe point.",
                                                    discussion: ExitCodes.help)
    @Argument(help: "The job's id.") var id: Int
    @OptionGroup var client: ClientOptions

    func run() throws {
        try runCLI {
            let response = try client.expectSuccess(try client.client().post("/jobs/\(id)/cancel", json: [:]))
            if client.json { return client.printJSON(response) }
            print(response.status == 200 ? "job \(id) cancelled" : "job \(id) will stop at its next safe point")
        }
    }
}

/// Plain aligned columns; ANSI colour codes do not count towards a column's width.
enum Table {
    static func render(header: [String], rows: [[String]]) -> String {
        let all = [header] + rows
        var widths = [Int](repeating: 0, count: header.count)
        for row in all {
            for (index, cell) in row.enumerated() where index < widths.count {
                widths[index] = max(widths[index], visibleWidth(cell))
            }
        }
        return all.map { row in
            row.enumerated().map { index, cell in
                index == row.count - 1 ? cell : cell + String(repeating: " ", count: widths[index] - visibleWidth(cell) + 2)
            }.joined()
        }.joined(separator: "\n")
    }

    static func visibleWidth(_ text: String) -> Int {
        var count = 0
        var escaping = false
        for scalar in text.unicodeScalars {
            if escaping {
                if scalar == "m" { escaping = false }
            } else if scalar == "\u{1B}" {
                escaping = true
            } else {
                count += 1
            }
        }
        return count
    }
}

/// The topology as `redis-cli --cluster check` lays it out: masters with their slots and keys, their replicas, then
/// the checks' messages.
enum TopologyTable {
    static func render(_ document: [String: Any], style: Style) -> String {
        let topology = document["topology"] as? [String: Any] ?? document
        let nodes = topology["nodes"] as? [[String: Any]] ?? []
        let checks = topology["checks"] as? [String: Any] ?? [:]
        var lines: [String] = []
        let masters = nodes.filter { $0["role"] as? String == "master" }
        for master in masters.sorted(by: { ($0["address"] as? String ?? "") < ($1["address"] as? String ?? "") }) {
            lines.append(line(master, style: style))
            let id = master["id"] as? String
            for replica in nodes where replica["role"] as? String != "master" && replica["master_id"] as? String == id {
                lines.append("   " + line(replica, style: style))
            }
        }
        let known = Set(masters.compactMap { $0["id"] as? String })
        for orphan in nodes where orphan["role"] as? String != "master" && !known.contains(orphan["master_id"] as? String ?? "") {
            lines.append(line(orphan, style: style))
        }
        lines.append("")
        for message in checks["messages"] as? [String] ?? [] {
            lines.append(message.hasPrefix("[OK]") ? style.green(message)
                : message.hasPrefix("[ERR]") ? style.red(message) : message.hasPrefix("[WARNING]") ? style.yellow(message) : message)
        }
        return lines.joined(separator: "\n")
    }

    static func line(_ node: [String: Any], style: Style) -> String {
        let master = node["role"] as? String == "master"
        let id = String((node["id"] as? String ?? "").prefix(8))
        let address = node["address"] as? String ?? ""
        var text = "\(master ? style.bold("M") : "S") \(address)  \(style.dim(id))"
        if master {
            let ranges = (node["slots"] as? [[Int]] ?? []).map { $0.count == 2 && $0[0] != $0[1] ? "\($0[0])-\($0[1])" : "\($0.first ?? 0)" }
            text += "  slots \(ranges.isEmpty ? "none" : ranges.joined(separator: ",")) (\(node["slot_count"] as? Int ?? 0))"
        }
        if let keys = node["keys"] as? Int { text += "  \(JobFollower.grouped(keys)) keys" }
        if let server = node["server"] as? [String: Any], let product = server["product"] as? String {
            text += style.dim("  \(product) \(server["version"] as? String ?? "")")
        }
        let flags = node["flags"] as? [String] ?? []
        if node["reachable"] as? Bool == false || flags.contains("fail") {
            text += "  " + style.red(flags.contains("fail") ? "FAIL" : "unreachable")
        } else if flags.contains("fail?") {
            text += "  " + style.yellow("PFAIL")
        }
        return text
    }
}

struct Backups: ParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List a cluster's backups, or show one with its files.",
                                                    discussion: ExitCodes.help)
    @Argument(help: "The registered cluster's id.") var cluster: String
    @Argument(help: "A backup's id: show its manifest.") var backup: String?
    @OptionGroup var client: ClientOptions

    func run() throws {
        try runCLI {
            let base = "/clusters/\(JobOptions.escape(cluster))/backups"
            let service = try client.client()
            let style = Style.stdout
            guard let backup else {
                let response = try client.expectSuccess(try service.get(base))
                if client.json { return client.printJSON(response) }
                let rows = (response.object["items"] as? [[String: Any]] ?? []).map { item -> [String] in
                    let status = item["status"] as? String ?? ""
                    let coloured = status == "complete" ? style.green(status) : status == "running" ? status : style.yellow(status)
                    return [TerminalText.safe(item["id"] as? String ?? ""), coloured, "\(item["files"] as? Int ?? 0)",
                            ProgressMeasure.size(Int64(item["bytes"] as? Int ?? 0)), item["job_id"].map { "\($0)" } ?? "-",
                            TerminalText.safe(item["created_at"] as? String ?? "")]
                }
                print(Table.render(header: ["ID", "STATUS", "FILES", "SIZE", "JOB", "STARTED"], rows: rows))
                return
            }
            let response = try client.expectSuccess(try service.get(base + "/" + JobOptions.escape(backup)))
            if client.json { return client.printJSON(response) }
            let item = response.object
            print("backup \(TerminalText.safe(item["id"] as? String ?? "")) of \(TerminalText.safe(cluster)): \(item["status"] as? String ?? "?"), "
                  + "\(item["files"] as? Int ?? 0) files, \(ProgressMeasure.size(Int64(item["bytes"] as? Int ?? 0)))")
            print("folder: \(TerminalText.safe(item["directory"] as? String ?? ""))")
            let files = (item["manifest"] as? [String: Any])?["files"] as? [[String: Any]] ?? []
            let rows = files.map { file -> [String] in
                let slots = (file["slots"] as? [[Int]] ?? []).map { $0.count == 2 && $0[0] != $0[1] ? "\($0[0])-\($0[1])" : "\($0.first ?? 0)" }
                return [TerminalText.safe(file["name"] as? String ?? ""), slots.joined(separator: ","),
                        TerminalText.safe("\(file["source"] as? String ?? "") (\(file["source_role"] as? String ?? ""))"),
                        ProgressMeasure.size(Int64(file["size"] as? Int ?? 0)), TerminalText.safe(file["sha256"] as? String ?? "")]
            }
            if !rows.isEmpty { print(Table.render(header: ["FILE", "SLOTS", "FROM", "SIZE", "SHA-256"], rows: rows)) }
        }
    }
}
