import Foundation
import Testing

@testable import HTTPServer

@Suite struct RouterTests {
    struct Boom: Error, CustomStringConvertible {
        var description: String { "secret database password in error text" }
    }

    func problem(_ response: HTTPResponse) throws -> [String: Any] {
        try #require(JSONSerialization.jsonObject(with: Data(response.body)) as? [String: Any])
    }

    func makeRouter(log: @escaping @Sendable (String) -> Void = { _ in }) -> Router {
        var router = Router(log: log)
        router.add("GET", "/clusters") { _, _ in .text(200, "list") }
        router.add("POST", "/clusters") { _, _ in .text(201, "created") }
        router.add("GET", "/clusters/{id}/snapshots/{sid}") { _, parameters in
            .text(200, "\(try parameters.require("id")) \(parameters["sid"] ?? "-")")
        }
        router.add("POST", "/clusters/import") { _, _ in .text(202, "import") }
        router.add("GET", "/clusters/{id}") { _, parameters in .text(200, "cluster \(parameters["id"] ?? "")") }
        router.add("DELETE", "/clusters/{id}") { _, _ in throw HTTPError(409, "cluster is busy", title: "Busy") }
        router.add("PUT", "/clusters/{id}") { _, _ in throw Boom() }
        return router
    }

    @Test func bindsPercentDecodedParameters() {
        let response = makeRouter().handle(HTTPRequest(method: "GET", target: "/clusters/a%2Fb/snapshots/s%201?x=1"))
        #expect(response.status == 200)
        #expect(response.body == Array("a/b s 1".utf8))
    }

    @Test func literalSegmentsWinOverParameters() {
        let router = makeRouter()
        #expect(router.handle(HTTPRequest(method: "POST", target: "/clusters/import")).status == 202)
        #expect(router.handle(HTTPRequest(method: "GET", target: "/clusters/import")).body == Array("cluster import".utf8))
    }

    @Test func unknownPathsAre404Problems() throws {
        let router = makeRouter()
        for target in ["/nope", "/clusters/", "/clusters/a/b", "/clusters//snapshots/x", "*"] {
            let response = router.handle(HTTPRequest(method: "GET", target: target))
            #expect(response.status == 404, "\(target)")
            #expect(response.headers["Content-Type"] == "application/problem+json")
        }
        #expect(try problem(router.handle(HTTPRequest(method: "GET", target: "/nope")))["status"] as? Int == 404)
    }

    @Test func wrongMethodIs405WithAllowIncludingHead() throws {
        let router = makeRouter()
        let response = router.handle(HTTPRequest(method: "PATCH", target: "/clusters"))
        #expect(response.status == 405)
        #expect(response.headers["Allow"] == "GET, HEAD, POST")
        #expect(try problem(response)["title"] as? String == "Method Not Allowed")
        let postOnly = router.handle(HTTPRequest(method: "DELETE", target: "/clusters/import"))
        #expect(postOnly.status == 409)
    }

    @Test func headIsServedByTheGetHandler() {
        let response = makeRouter().handle(HTTPRequest(method: "HEAD", target: "/clusters"))
        #expect(response.status == 200)
        #expect(response.body == Array("list".utf8))
    }

    @Test func thrownHTTPErrorBecomesAProblem() throws {
        let response = makeRouter().handle(HTTPRequest(method: "DELETE", target: "/clusters/c1"))
        #expect(response.status == 409)
        #expect(response.headers["Content-Type"] == "application/problem+json")
        let body = try problem(response)
        #expect(body["type"] as? String == "about:blank")
        #expect(body["title"] as? String == "Busy")
        #expect(body["status"] as? Int == 409)
        #expect(body["detail"] as? String == "cluster is busy")
    }

    @Test func otherErrorsAre500WithoutTheirText() throws {
        let recorder = LogRecorder()
        let request = HTTPRequest(
            method: "PUT", target: "/clusters/c1", headers: HTTPHeaders([("X-Request-Id", "req-42")]))
        let response = makeRouter(log: recorder.log).handle(request)
        #expect(response.status == 500)
        let text = String(decoding: response.body, as: UTF8.self)
        #expect(!text.contains("secret"))
        #expect(try problem(response)["detail"] as? String == "internal error (request req-42)")
        #expect(recorder.recorded.count == 1)
        #expect(recorder.recorded.first?.contains("secret database password") == true)
        #expect(recorder.recorded.first?.contains("req-42") == true)
    }

    @Test func listsRoutesInRegistrationOrder() {
        let routes = makeRouter().routes
        #expect(routes.count == 7)
        #expect(routes.first?.method == "GET")
        #expect(routes.first?.pattern == "/clusters")
        #expect(routes.last?.pattern == "/clusters/{id}")
    }
}
