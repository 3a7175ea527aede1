import Foundation
import Testing

/// The page at `/` in headless Chromium, with tokens enabled: during a reshard its slot map changes owner and the
/// job's progress bar advances, live (Scripts/page_during_reshard.py reads the DOM over the DevTools protocol).
@Suite(.serialized)
struct PageIntegrationTests {
    @Test func theSlotMapAndTheProgressBarMoveLiveDuringAReshard() throws {
        let chromium = "/usr/bin/chromium"
        try #require(FileManager.default.isExecutableFile(atPath: chromium), "make deps installs Debian's chromium")
        let cluster = try TestCluster(nodes: 4)
        defer { cluster.stop() }
        try cluster.create(count: 3, replicas: 0)
        try ClusterKeys.write(count: 40_000, seed: cluster.nodes[0].address)
        let service = try SecuredService()
        defer { service.stop() }
        let admin = service.admin
        #expect(try admin.post("/clusters", #"{"id":"live","seeds":["\#(cluster.nodes[0].address)"]}"#).status == 201)
        try admin.runJob("live", "add-node", #"{"address":"\#(cluster.nodes[3].address)"}"#)

        // The page itself needs no token and loads nothing from elsewhere.
        let page = try service.client(nil).get("/")
        #expect(page.status == 200)
        #expect(page.headers["content-type"] == "text/html; charset=utf-8")
        #expect(page.headers["content-security-policy"]?.contains("default-src 'none'") == true)
        #expect(!page.text.contains("http://") && !page.text.contains("https://"), "no asset from elsewhere")

        // Kept after the run for people to look at: .build/test-artifacts/ in the package.
        let screenshots = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent(".build/test-artifacts")
        try FileManager.default.createDirectory(at: screenshots, withIntermediateDirectories: true)
        // The read token is enough for the page; the script submits the reshard with the operator's.
        let run = try ScriptRun.script("page_during_reshard.py", [
            "--url", "http://127.0.0.1:\(service.port)", "--token", AccessIntegrationTests.operatorToken, "--cluster", "live",
            "--to", cluster.nodes[3].address, "--slots", "4096", "--rate", "2000", "--screenshots", screenshots.path,
            "--chromium", chromium,
        ], mergeErrors: false)
        #expect(run.status == 0, "\(run.output)")
        let summary = run.report ?? [:]
        #expect(summary["owned_before"] as? Int == 0)
        #expect(summary["owned_after"] as? Int == 4096)
        #expect(!((summary["intermediate_owned"] as? [Int]) ?? []).isEmpty, "slots changed owner on the page during the job")
        #expect(((summary["running_progress"] as? [Double]) ?? []).count >= 2, "the progress bar advanced")
        for name in ["page-during-reshard.png", "page-after-reshard.png"] {
            let png = FileManager.default.contents(atPath: screenshots.appendingPathComponent(name).path) ?? Data()
            #expect(png.starts(with: [0x89, 0x50, 0x4E, 0x47]), "\(name) is a PNG")
            #expect(png.count > 10_000)
        }
        // The finished job's detail, opened as a user opens it, lists its plan's preflight checks and its verification.
        // The script's DevTools driver is reused as a module, so this is one more Chromium start, not another driver.
        let jobId = try #require(summary["job"] as? Int)
        let detail = try Self.jobDetail(url: "http://127.0.0.1:\(service.port)", token: AccessIntegrationTests.readToken, jobId: jobId,
                                        scripts: ScriptRun.directory, chromium: chromium)
        #expect(detail["visible"] as? Bool == true, "\(detail)")
        let checks = detail["preflight"] as? [String] ?? []
        #expect(Set(checks.map { String($0.split(separator: ":")[0]) })
                == ["health", "replication", "memory_headroom", "big_keys", "permissions", "time"], "\(detail)")
        #expect(checks.allSatisfy { $0.hasSuffix(":ok") || $0.hasSuffix(":warn") || $0.hasSuffix(":fail") }, "\(detail)")
        #expect(detail["verification"] as? String == "true", "\(detail)")

        // The token travelled in headers only: no URL the service saw, and no log line, carries it.
        #expect(!service.log.contains(AccessIntegrationTests.operatorToken))
        cluster.expectSettled(from: cluster.nodes[0])
    }

    /// Opens the page with `token`, clicks the job's "details" and answers what its detail shows: visible, each
    /// preflight check as `name:status`, and the verification's `data-passed`.
    static func jobDetail(url: String, token: String, jobId: Int, scripts: URL, chromium: String) throws -> [String: Any] {
        let probe = #"""
            import json, sys
            sys.path.insert(0, sys.argv[1])
            from page_during_reshard import DevTools, wait_for
            url, token, job, chromium = sys.argv[2], sys.argv[3], sys.argv[4], sys.argv[5]
            devtools = DevTools(chromium)
            try:
                devtools.attach()
                devtools.send("Page.navigate", {"url": url + "/"})
                wait_for(devtools, "document.readyState === 'complete' && !!document.querySelector('#token')", 30, "the page")
                devtools.evaluate(f"document.querySelector('#token').value = {json.dumps(token)};"
                                  "document.querySelector('#connect').click(); true")
                row = f"document.querySelector('.job[data-job=\"{job}\"]')"
                wait_for(devtools, f"!!{row} && !!{row}.querySelector('button.more')", 30, "the job")
                devtools.evaluate(f"{row}.querySelector('button.more').click(); true")
                print(json.dumps(devtools.evaluate(
                    f"(() => {{ const d = {row}.querySelector('[data-role=detail]');"
                    " const verification = d.querySelector('[data-role=verification]');"
                    " return { visible: !d.hidden && d.offsetHeight > 0,"
                    " preflight: Array.from(d.querySelectorAll('[data-role=preflight] li'))"
                    ".map(li => li.dataset.check + ':' + li.dataset.status),"
                    " verification: verification ? verification.dataset.passed : null }; })()")))
            finally:
                devtools.close()
            """#
        let run = try ScriptRun.python(["-c", probe, scripts.path, url, token, String(jobId), chromium], mergeErrors: false)
        #expect(run.status == 0, "\(run.output)")
        return run.report ?? [:]
    }
}
