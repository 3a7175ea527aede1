import API
import EmbeddedResources
import Foundation
import HTTPServer
import Jobs
import Store
import Testing

/// The router in-process, no socket: validation, error shapes, and agreement with openapi.yaml.
@Suite struct APIRouterTests {
    let api: APIService

    init() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("api-test-\(UUID().uuidString).sqlite").path
        let store = try Store(path: path)
        api = APIService(store: store, log: { _ in })
    }

    func call(_ method: String, _ target: String, _ body: String = "") -> (status: Int, json: [String: Any], response: HTTPResponse) {
        var headers = HTTPHeaders([("Host", "localhost")])
        if !body.isEmpty { headers.add("Content-Type", "application/json") }
        let request = HTTPRequest(method: method, target: target, version: "HTTP/1.1", headers: headers, body: Array(body.utf8))
        let response = api.handler(request)
        let json = (try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any] ?? [:]
        return (response.status, json, response)
    }

    /// Every (method, path) in openapi.yaml is routed, and every route is in openapi.yaml.
    @Test func routerAndSpecAgree() {
        let routed = Set(api.router.routes.map { "\($0.method) \($0.pattern)" })
        #expect(routed == OpenAPIPaths.operations(in: EmbeddedResources.openAPISpec))
        #expect(routed.count > 10)
    }

    @Test func servesItsSpecAndHealth() {
        let spec = call("GET", "/openapi.yaml")
        #expect(spec.status == 200)
        #expect(String(decoding: spec.response.body, as: UTF8.self).hasPrefix("openapi: 3.1"))
        let health = call("GET", "/healthz")
        #expect(health.status == 200)
        #expect(health.json["status"] as? String == "ok")
    }

    @Test func metricsAreInPrometheusFormat() {
        _ = call("GET", "/healthz")
        let metrics = call("GET", "/metrics")
        let text = String(decoding: metrics.response.body, as: UTF8.self)
        #expect(metrics.status == 200)
        #expect(text.contains("# TYPE rcm_http_requests_total counter"))
        #expect(text.contains("rcm_http_requests_total{method=\"GET\",status=\"200\"}"))
        #expect(text.contains("rcm_jobs{status=\"queued\"} 0"))
    }

    @Test(arguments: [
        ("{", "not valid JSON"),
        ("[]", "must be a JSON object"),
        (#"{"seeds":["127.0.0.1:1"]}"#, "'id' is required"),
        (#"{"id":"Bad_Id","seeds":["127.0.0.1:1"]}"#, "must match"),
        (#"{"id":"-x","seeds":["127.0.0.1:1"]}"#, "must match"),
        (#"{"id":"ok","seeds":[]}"#, "non-empty array"),
        (#"{"id":"ok","seeds":"127.0.0.1:1"}"#, "array of strings"),
        (#"{"id":"ok","seeds":[7]}"#, "array of strings"),
        (#"{"id":"ok","seeds":["nope"]}"#, "not host:port"),
        (#"{"id":"ok","seeds":["127.0.0.1:0"]}"#, "not host:port"),
        (#"{"id":"ok","seeds":["127.0.0.1:70000"]}"#, "not host:port"),
        (#"{"id":"ok","seeds":["127.0.0.1:7000"],"username":"u"}"#, "needs 'password'"),
        (#"{"id":"ok","seeds":["127.0.0.1:7000"],"password":""}"#, "'password'"),
        (#"{"id":"ok","seeds":["127.0.0.1:7000"],"passwd":"x"}"#, "unknown field 'passwd'"),
        (#"{"id":5,"seeds":["127.0.0.1:7000"]}"#, "'id' must be a string"),
    ])
    func registrationRejectsBadInput(body: String, detail: String) {
        let result = call("POST", "/clusters", body)
        #expect(result.status == 400)
        #expect(result.response.headers["Content-Type"] == "application/problem+json")
        #expect((result.json["detail"] as? String ?? "").contains(detail))
        #expect(result.json["status"] as? Int == 400)
        #expect(result.json["title"] as? String != nil)
    }

    @Test func remoteSeedsNeedTheFlag() {
        let result = call("POST", "/clusters", #"{"id":"far","seeds":["10.0.0.7:6379"]}"#)
        #expect(result.status == 422)
        #expect((result.json["detail"] as? String ?? "").contains("--allow-remote-nodes"))
    }

    @Test func unknownResourcesAre404AndWrongMethods405() {
        #expect(call("GET", "/clusters/nope").status == 404)
        #expect(call("GET", "/clusters/nope/topology").status == 404)
        #expect(call("DELETE", "/clusters/nope").status == 404)
        #expect(call("GET", "/clusters/nope/snapshots").status == 404)
        #expect(call("GET", "/jobs/abc").status == 404)
        #expect(call("GET", "/jobs/0").status == 404)
        #expect(call("GET", "/jobs/99999999999999999999").status == 404)
        #expect(call("GET", "/jobs/5/events").status == 404)
        #expect(call("GET", "/nowhere").status == 404)
        let wrong = call("PUT", "/clusters")
        #expect(wrong.status == 405)
        #expect(wrong.response.headers["Allow"]?.contains("POST") == true)
    }

    @Test func jobListValidatesItsFilters() {
        #expect(call("GET", "/jobs").status == 200)
        #expect((call("GET", "/jobs").json["items"] as? [Any])?.isEmpty == true)
        #expect(call("GET", "/jobs").json.keys.contains("next_cursor"))
        #expect(call("GET", "/jobs?status=done").status == 400)
        #expect(call("GET", "/jobs?type=explode").status == 400)
        #expect(call("GET", "/jobs?limit=0").status == 400)
        #expect(call("GET", "/jobs?limit=501").status == 400)
        #expect(call("GET", "/jobs?limit=x").status == 400)
        #expect(call("GET", "/jobs?cursor=-3").status == 400)
        #expect(call("GET", "/jobs?since=yesterday").status == 400)
        #expect(call("GET", "/jobs?since=2026-01-01T00:00:00Z&until=2026-01-02T00:00:00%2B02:00&status=failed&type=reshard&cluster_id=a").status == 200)
    }

    @Test func jobListPagesNewestFirst() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("api-test-\(UUID().uuidString).sqlite").path
        let store = try Store(path: path)
        let api = APIService(store: store, log: { _ in })
        try store.insertCluster(ClusterRecord(id: "c1", seeds: ["127.0.0.1:7000"], username: nil, password: nil,
                                              createdAt: Timestamp.now(), updatedAt: Timestamp.now()))
        let ids = try (0..<5).map { _ in try store.insertJob(clusterId: "c1", type: "reshard", params: "{}", actor: "anonymous").id }
        func page(_ target: String) -> [String: Any] {
            let request = HTTPRequest(method: "GET", target: target, version: "HTTP/1.1", headers: HTTPHeaders([("Host", "localhost")]), body: [])
            return (try? JSONSerialization.jsonObject(with: Data(api.handler(request).body))) as? [String: Any] ?? [:]
        }
        let first = page("/jobs?limit=2&cluster_id=c1")
        #expect((first["items"] as? [[String: Any]])?.compactMap { $0["id"] as? Int } == [Int(ids[4]), Int(ids[3])])
        let cursor = first["next_cursor"] as? String ?? ""
        let second = page("/jobs?limit=2&cluster_id=c1&cursor=\(cursor)")
        #expect((second["items"] as? [[String: Any]])?.compactMap { $0["id"] as? Int } == [Int(ids[2]), Int(ids[1])])
        let job = (first["items"] as? [[String: Any]])?.first ?? [:]
        #expect(job["status"] as? String == "queued")
        #expect(job["actor"] as? String == "anonymous")
        #expect(job.keys.contains("error"))
        #expect((job["progress"] as? [String: Any])?["slots_done"] as? Int == 0)
        #expect(page("/jobs?cluster_id=other")["items"] as? [Any] != nil)
        #expect((page("/jobs?status=failed")["items"] as? [Any])?.isEmpty == true)
    }
}
