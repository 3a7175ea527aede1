import Foundation
import Testing

/// A web page in a browser on the same host cannot drive the service: the requests measured before (a text/plain
/// POST from `Origin: http://evil.example` with `Host: rebind.evil.example:PORT` registered a cluster and started a
/// `call` job) are refused, with a tokens file and without, while the CLI, curl and the page still work.
@Suite(.serialized)
struct CrossSiteTests {
    @Test func crossSiteRequestsAreRefusedAndNothingChanges() throws {
        let cluster = try TestCluster(nodes: 3)
        defer { cluster.stop() }
        try cluster.create(replicas: 0)
        let service = try ServiceProcess(databasePath: AccessIntegrationTests.databasePath(),
                                         arguments: ["--public-host", "ops.internal", "--allowed-origins", "https://console.internal"])
        defer { service.kill9(); AccessIntegrationTests.removeDatabase(service.databasePath) }
        let client = service.client
        let register = #"{"id":"evil","seeds":["\#(cluster.nodes[0].address)"]}"#
        let port = service.port

        // The measured request: every one of its three marks refuses it on its own.
        let measured = try client.request("POST", "/clusters", body: register,
                                          headers: [("Origin", "http://evil.example")], host: "rebind.evil.example:\(port)",
                                          contentType: "text/plain")
        #expect(measured.status == 421, "\(measured.status) \(measured.text)")
        let rebinding = try client.request("GET", "/clusters", host: "rebind.evil.example:\(port)")
        #expect(rebinding.status == 421, "DNS rebinding could read: \(rebinding.status)")
        let plain = try client.request("POST", "/clusters", body: register, contentType: "text/plain")
        #expect(plain.status == 415, "\(plain.status) \(plain.text)")
        let form = try client.request("POST", "/clusters", body: register, contentType: "application/x-www-form-urlencoded")
        #expect(form.status == 415)
        let crossOrigin = try client.request("POST", "/clusters", body: register, headers: [("Origin", "http://evil.example")])
        #expect(crossOrigin.status == 403, "\(crossOrigin.status) \(crossOrigin.text)")
        let otherPort = try client.request("GET", "/clusters", headers: [("Origin", "http://127.0.0.1:\(port + 1)")])
        #expect(otherPort.status == 403, "another local port is another origin: \(otherPort.status)")
        #expect(try client.request("GET", "/healthz", host: "").status == 400)
        #expect(try client.get("/clusters").text.contains("evil") == false, "something was registered")

        // What still works: IP and localhost hosts, a --public-host name, the service's own origin, a listed one,
        // a JSON body with a charset, and a POST without a body.
        let own = try client.request("POST", "/clusters", body: register, headers: [("Origin", "http://127.0.0.1:\(port)")],
                                     host: "127.0.0.1:\(port)", contentType: "application/json; charset=utf-8")
        #expect(own.status == 201, "\(own.status) \(own.text)")
        #expect(try client.request("GET", "/clusters", host: "localhost:\(port)").status == 200)
        #expect(try client.request("GET", "/clusters", host: "[::1]:\(port)").status == 200)
        #expect(try client.request("GET", "/clusters", host: "OPS.internal:\(port)").status == 200)
        #expect(try client.request("GET", "/clusters", headers: [("Origin", "https://console.internal")]).status == 200)
        #expect(try client.request("POST", "/clusters/evil/snapshots", body: "", contentType: nil).status == 201)
        // curl as the README shows it, and the CLI.
        let curl = Process()
        curl.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
        curl.arguments = ["-s", "-o", "/dev/null", "-w", "%{http_code}", "-XPOST", "http://127.0.0.1:\(port)/clusters/evil/set-timeout",
                          "--json", #"{"node_timeout_ms":5000,"dry_run":true}"#]
        let out = Pipe()
        curl.standardOutput = out
        try curl.run()
        curl.waitUntilExit()
        #expect(String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self) == "200")
        let cli = try CLIIntegrationTests.cli(["topology", "evil"], server: "http://127.0.0.1:\(port)", token: nil)
        #expect(cli.status == 0, "\(cli.errors)")
        // The page loads.
        #expect(try client.get("/").status == 200)
    }
}
