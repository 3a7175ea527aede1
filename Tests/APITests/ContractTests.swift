import API
import Foundation
import HTTPServer
import Jobs
import Store
import Testing

/// What schemathesis (Tests/Fuzz) found: the server refuses exactly what openapi.yaml refuses, and /metrics labels
/// come from a fixed set whatever clients send.
@Suite struct ContractTests {
    let api: APIService
    let store: Store

    init() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("contract-\(UUID().uuidString).sqlite").path
        store = try Store(path: path)
        api = APIService(store: store, log: { _ in })
    }

    func call(_ method: String, _ target: String, _ body: String = "", headers extra: [(String, String)] = [])
        -> (status: Int, json: [String: Any], text: String) {
        var headers = HTTPHeaders([("Host", "localhost")] + extra)
        if !body.isEmpty { headers.add("Content-Type", "application/json") }
        let request = HTTPRequest(method: method, target: target, version: "HTTP/1.1", headers: headers, body: Array(body.utf8))
        let response = api.handler(request)
        let json = (try? JSONSerialization.jsonObject(with: Data(response.body))) as? [String: Any] ?? [:]
        return (response.status, json, String(decoding: response.body, as: UTF8.self))
    }

    func register(_ id: String) throws {
        try store.insertCluster(ClusterRecord(id: id, seeds: ["127.0.0.1:1"], username: nil, password: nil,
                                              createdAt: Timestamp.now(), updatedAt: Timestamp.now()))
    }

    @Test(arguments: ["", "0", "01", "+5", "-5", " 5", "5 ", "0x10", "1e3", "9999999999999999999", "1234567890123456789"])
    func cursorsAreOnlyIdsThisAPIGivesOut(cursor: String) throws {
        try register("c1")
        let escaped = cursor.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? cursor
        #expect(call("GET", "/jobs?cursor=\(escaped)").status == 400)
        #expect(call("GET", "/clusters/c1/snapshots?cursor=\(escaped)").status == 400)
    }

    @Test func cursorsOfEighteenDigitsAreAccepted() throws {
        try register("c1")
        #expect(call("GET", "/jobs?cursor=1").status == 200)
        #expect(call("GET", "/jobs?cursor=999999999999999999").status == 200)
        #expect(call("GET", "/clusters/c1/snapshots?cursor=42").status == 200)
    }

    @Test func numbersAndIntegersInTheQueryAreWrittenAsJSONWritesThem() throws {
        #expect(call("GET", "/jobs?limit=%2B5").status == 400)
        #expect(call("GET", "/jobs?limit=05").status == 400)
        #expect(call("GET", "/jobs?limit=5").status == 200)
        try register("c1")
        let job = try store.insertJob(clusterId: "c1", type: "fix", params: "{}", actor: "t")
        #expect(call("GET", "/jobs/\(job.id)?wait=0x1p3").status == 400)
        #expect(call("GET", "/jobs/\(job.id)?wait=nan").status == 400)
        #expect(call("GET", "/jobs/\(job.id)?wait=.5").status == 400)
        #expect(call("GET", "/jobs/\(job.id)?wait=0").status == 200)
        #expect(call("GET", "/jobs/\(job.id)?wait=0e0").status == 200)
    }

    @Test func jobFilterClusterIdFollowsTheRegistrationPattern() {
        #expect(call("GET", "/jobs?cluster_id=Bad_Id").status == 400)
        #expect(call("GET", "/jobs?cluster_id=").status == 400)
        #expect(call("GET", "/jobs?cluster_id=ok-1").status == 200)
        #expect(call("GET", "/jobs?since=6675-02-08T16:36:22-18:26").status == 200)
        #expect(call("GET", "/jobs?since=2026-02-30T00:00:00Z").status == 400)
    }

    @Test func lastEventIdIsCheckedOnTheJSONAnswerToo() throws {
        try register("c1")
        let job = try store.insertJob(clusterId: "c1", type: "fix", params: "{}", actor: "t")
        #expect(call("GET", "/jobs/\(job.id)/events", headers: [("Last-Event-ID", "soon")]).status == 400)
        #expect(call("GET", "/jobs/\(job.id)/events", headers: [("Last-Event-ID", "-1")]).status == 400)
        #expect(call("GET", "/jobs/\(job.id)/events", headers: [("Last-Event-ID", "1234567890123456789")]).status == 400)
        #expect(call("GET", "/jobs/\(job.id)/events", headers: [("Last-Event-ID", "7")]).status == 200)
    }

    @Test(arguments: [
        (#"{"id":"ok","seeds":[""]}"#, "not host:port"),
        (#"{"id":"ok","seeds":["127.0.0.1:07000"]}"#, "not host:port"),
        (#"{"id":"ok","seeds":["::1:7000"]}"#, "not host:port"),
        (#"{"id":"ok","seeds":["[fe80::1%eth0]:7000"]}"#, "not host:port"),
        (#"{"id":"ok","seeds":["héllo:7000"]}"#, "not host:port"),
        (#"{"id":"ok","seeds":["a b:7000"]}"#, "not host:port"),
        (#"{"id":"ok","seeds":["127.0.0.1:7000"],"username":null,"password":"x"}"#, "must not be null"),
        (#"{"id":"ok","seeds":["127.0.0.1:7000"],"password":null}"#, "must not be null"),
        (#"{"id":"ok","seeds":["127.0.0.1:7000"],"address_map":[]}"#, "must be an object"),
        (#"{"id":"ok","seeds":["127.0.0.1:7000"],"address_map":{"extra":{}}}"#, "unknown field 'extra'"),
        (#"{"id":"ok","seeds":["127.0.0.1:7000"],"address_map":{"nodes":{"10.0.0.5:6379":"x"}}}"#, "must be a \"host:port\""),
        (#"{"id":"ok","seeds":["127.0.0.1:7000"],"address_map":{"nodes":{"10.0.0.5":"127.0.0.1:1"}}}"#, "is not host:port"),
        (#"{"id":"ok","seeds":["127.0.0.1:7000"],"address_map":{"rules":[{"announced":"10.0.0.0","reachable":"127.0.0.1"}]}}"#, "must be a CIDR"),
        (#"{"id":"ok","seeds":["127.0.0.1:7000"],"address_map":{"rules":[{"announced":"10.0.0.0/8","reachable":"127.0.0.1:1"}]}}"#, "without port"),
        (#"{"id":"ok","seeds":["127.0.0.1:7000"],"address_map":{"rules":[{"announced":"10.0.0.0/8"}]}}"#, "'reachable' is required"),
    ])
    func registrationRefusesWhatTheSpecRefuses(body: String, detail: String) {
        let result = call("POST", "/clusters", body)
        #expect(result.status == 400)
        #expect((result.json["detail"] as? String ?? "").contains(detail))
    }

    @Test func aSeedWhereNothingListensIs422() {
        let result = call("POST", "/clusters", #"{"id":"ok","seeds":["127.0.0.1:1"]}"#)
        #expect(result.status == 422)
        #expect(result.json["code"] as? String == "unreachable")
        #expect(call("POST", "/clusters", #"{"id":"ok","seeds":["[::2]:7000"]}"#).json["code"] as? String == "remote_node")
    }

    @Test("the loopback rule applies to the address the map dials, not the announced one")
    func addressMapsAreHeldToTheLoopbackRule() {
        let remote = call("POST", "/clusters", #"{"id":"ok","seeds":["127.0.0.1:7000"],"address_map":{"nodes":{"127.0.0.1:7000":"192.0.2.1:7000"}}}"#)
        #expect(remote.status == 422)
        #expect(remote.json["code"] as? String == "remote_node")
        let rule = call("POST", "/clusters", #"{"id":"ok","seeds":["127.0.0.1:7000"],"address_map":{"rules":[{"announced":"127.0.0.0/8","reachable":"192.0.2.1"}]}}"#)
        #expect(rule.json["code"] as? String == "remote_node")
        let mapped = call("POST", "/clusters", #"{"id":"ok","seeds":["10.0.0.5:6379"],"address_map":{"nodes":{"10.0.0.5:6379":"127.0.0.1:1"}}}"#)
        #expect(mapped.status == 422)
        #expect(mapped.json["code"] as? String == "unreachable")
    }

    @Test(arguments: [
        ("failover", #"{"replica":""}"#, "must name a node"),
        ("failover", #"{"replica":"nonsense"}"#, "must name a node"),
        ("del-node", #"{"node":"127.0.0.1:0"}"#, "must name a node"),
        ("reshard", #"{"to":"127.0.0.1:7000","slots":5,"from":[""]}"#, "field 'from'"),
        ("reshard", #"{"to":"127.0.0.1:7000","slot_ranges":[]}"#, "non-empty"),
        ("add-node", #"{"address":""}"#, "host:port"),
        ("add-node", #"{"address":"127.0.0.1:7007","role":"replica","master":"x"}"#, "must name a node"),
        ("rebalance", #"{"weights":{"nonsense":1}}"#, "field 'weights'"),
        ("fix", #"{"dry_run":null}"#, "must not be null"),
        ("set-timeout", #"{"node_timeout_ms":100,"dry_run":null}"#, "must not be null"),
    ])
    func jobRequestsRefuseWhatTheSpecRefuses(kind: String, body: String, detail: String) throws {
        try register("c1")
        let result = call("POST", "/clusters/c1/\(kind)", body)
        #expect(result.status == 400)
        #expect((result.json["detail"] as? String ?? "").contains(detail))
    }

    @Test func addressesAndNodeIdsAsTheSpecWritesThem() {
        #expect(RequestFields.address("127.0.0.1:7000")?.port == 7000)
        #expect(RequestFields.address("[::1]:65535")?.host == "::1")
        #expect(RequestFields.address("redis-1.example_host:1") != nil)
        #expect(RequestFields.address("127.0.0.1:65536") == nil)
        #expect(RequestFields.address("[::1]:0") == nil)
        #expect(RequestFields.address(String(repeating: "a", count: 256) + ":6379") != nil)
        #expect(RequestFields.address(String(repeating: "a", count: 257) + ":6379") == nil)
        #expect(RequestFields.isNodeReference(String(repeating: "aB", count: 20)))
        #expect(!RequestFields.isNodeReference(String(repeating: "g", count: 40)))
    }

    @Test func slotRangeBoundsMayComeInEitherOrderAndAsIntegralNumbers() throws {
        let fields = try RequestFields(["r": .array([.array([.int(9), .int(3)]), .array([.int(100), .int(100)])])], allowed: ["r"])
        let set = try #require(try fields.slotRanges("r"))
        #expect(set.count == 8)
        #expect(set.contains(3) && set.contains(9) && set.contains(100) && !set.contains(10))
        let floats = try RequestFields(["r": .array([.array([.double(5.0), .int(6)])])], allowed: ["r"])
        #expect(try floats.slotRanges("r")?.count == 2)
        let fraction = try RequestFields(["r": .array([.array([.double(5.5), .int(6)])])], allowed: ["r"])
        #expect(throws: RequestFieldError.self) { try fraction.slotRanges("r") }
    }

    @Test func metricsLabelsComeFromAFixedSet() {
        for index in 0..<500 {
            _ = call("M\(index)X", "/clusters")
            _ = call("get", "/nowhere/\(index)")
        }
        for method in ["GET", "HEAD", "POST", "PUT", "DELETE", "PATCH", "OPTIONS"] {
            _ = call(method, "/healthz")
        }
        let text = call("GET", "/metrics").text
        let series = text.split(separator: "\n").filter { $0.hasPrefix("rcm_http_requests_total{") }
        #expect(series.count <= 14, "\(series)")
        #expect(text.contains(#"rcm_http_requests_total{method="other",status="405"} 500"#))
        #expect(text.contains(#"rcm_http_requests_total{method="other",status="404"} 500"#))
        #expect(text.contains(#"rcm_http_requests_total{method="PATCH",status="405"} 1"#))
        #expect(!text.contains("M1X"))
    }
}
