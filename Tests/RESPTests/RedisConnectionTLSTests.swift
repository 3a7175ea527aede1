import Foundation
import Testing
import RESP

/// `RedisConnection` over TLS against real TLS-only redis-server processes, with certificates made by `openssl`:
/// big exchanges both ways, verification failures named by their reason, client certificates, and pool hygiene.
@Suite(.serialized) struct RedisConnectionTLSTests {
    private func args(_ words: String...) -> [[UInt8]] { words.map { Array($0.utf8) } }

    /// The reason of a `.tlsFailed`, or a recorded issue naming what was thrown instead.
    private func tlsReason(_ error: RedisError?, sourceLocation: SourceLocation = #_sourceLocation) -> String {
        guard case .tlsFailed(_, let reason) = error else {
            Issue.record("expected tlsFailed, got \(String(describing: error))", sourceLocation: sourceLocation)
            return ""
        }
        return reason
    }

    @Test func commandsRoundTripWithLargeValuesByAddressAndByName() throws {
        let certificates = try TestCertificates()
        let server = try RedisServerProcess(tls: certificates)
        defer { server.stop() }
        let connection = try RedisConnection(endpoint: server.endpoint, tls: certificates.client)
        #expect(connection.tls == certificates.client)
        #expect(try connection.command(["SET", "greeting", "hello"]) == .simpleString("OK"))
        #expect(try connection.command(["GET", "greeting"]).string == "hello")

        let large = (0..<8_000_000).map { UInt8(truncatingIfNeeded: $0 ^ ($0 >> 9)) }
        _ = try connection.command(bytes: [Array("SET".utf8), Array("large".utf8), large])
        #expect(try connection.command(["GET", "large"]).bytes == large)
        #expect(connection.isReusable)

        // A host name is checked against the DNS names of the certificate (and sent as SNI).
        let byName = try RedisConnection(endpoint: RedisEndpoint(host: "localhost", port: server.port),
                                         tls: certificates.client)
        #expect(try byName.command(["GET", "greeting"]).string == "hello")
        // server_name overrides the name checked: any address of the server then passes.
        var named = certificates.client
        named.serverName = "localhost"
        #expect(try RedisConnection(endpoint: server.endpoint, tls: named).command(["PING"]) == .simpleString("PONG"))
    }

    @Test func pipelineOfTenThousandCommandsMovesMegabytesBothWays() throws {
        let certificates = try TestCertificates()
        let server = try RedisServerProcess(tls: certificates)
        defer { server.stop() }
        let connection = try RedisConnection(endpoint: server.endpoint, tls: certificates.client, readTimeout: 30)
        let value = String(repeating: "v", count: 1000)
        let sets = (0..<10_000).map { args("SET", "key:\($0)", "\(value)\($0)") }
        let setResults = try connection.pipeline(sets)
        #expect(setResults.count == 10_000)
        #expect(setResults.allSatisfy { (try? $0.get()) == .simpleString("OK") })

        let gets = try connection.pipeline((0..<10_000).map { args("GET", "key:\($0)") })
        #expect(gets.enumerated().allSatisfy { index, result in (try? result.get())?.string == "\(value)\(index)" })
        #expect(try connection.command(["DBSIZE"]).int == 10_000)

        // Several TLS connections read at once on one thread: replies bigger than a TLS record interleave.
        let other = try RedisConnection(endpoint: server.endpoint, tls: certificates.client, readTimeout: 30)
        let results = RedisConnection.pipelines([
            (connection, (0..<2000).map { args("GET", "key:\($0)") }),
            (other, [args("GET", "key:7"), args("PING")]),
        ])
        #expect(try results[0].get().enumerated().allSatisfy { index, result in
            (try? result.get())?.string == "\(value)\(index)"
        })
        #expect(try results[1].get().map { try $0.get() } == [.bulkString(Array("\(value)7".utf8)), .simpleString("PONG")])
        #expect(connection.isReusable && other.isReusable)
    }

    @Test func aServerCertificateFromAnotherCAFailsVerificationNamingTheReason() throws {
        let certificates = try TestCertificates()
        let server = try RedisServerProcess(tls: certificates)
        defer { server.stop() }
        var untrusting = certificates.client
        untrusting.caFile = certificates.otherCAFile
        let error = #expect(throws: RedisError.self) {
            _ = try RedisConnection(endpoint: server.endpoint, tls: untrusting)
        }
        // The server sends its chain up to its own CA, which this client does not trust.
        #expect(tlsReason(error) == "certificate verify failed: self-signed certificate in certificate chain")
        #expect("\(error!)".hasPrefix("TLS with \(server.endpoint) failed: certificate verify failed"))

        // A server showing a self-signed certificate of its own (later flags win in redis-server).
        let selfSigned = try RedisServerProcess(arguments: ["--tls-cert-file", certificates.selfSignedCertificate,
                                                            "--tls-key-file", certificates.selfSignedKey], tls: certificates)
        defer { selfSigned.stop() }
        let unknown = #expect(throws: RedisError.self) {
            _ = try RedisConnection(endpoint: selfSigned.endpoint, tls: certificates.client)
        }
        #expect(tlsReason(unknown) == "certificate verify failed: self-signed certificate")
    }

    @Test func aNameOrAddressTheCertificateDoesNotCarryIsAMismatch() throws {
        let certificates = try TestCertificates()
        let server = try RedisServerProcess(tls: certificates)
        defer { server.stop() }
        var wrongName = certificates.client
        wrongName.serverName = "redis.example.com"
        let byName = #expect(throws: RedisError.self) {
            _ = try RedisConnection(endpoint: server.endpoint, tls: wrongName)
        }
        #expect(tlsReason(byName) == "certificate verify failed: hostname mismatch")

        var wrongAddress = certificates.client
        wrongAddress.serverName = "127.0.0.2"
        let byAddress = #expect(throws: RedisError.self) {
            _ = try RedisConnection(endpoint: server.endpoint, tls: wrongAddress)
        }
        #expect(tlsReason(byAddress) == "certificate verify failed: IP address mismatch")
    }

    @Test func aServerRequiringClientCertificatesRefusesAClientWithout() throws {
        let certificates = try TestCertificates()
        let server = try RedisServerProcess(tls: certificates, authClients: "yes")
        defer { server.stop() }
        var anonymous = certificates.client
        anonymous.certificateFile = nil
        anonymous.keyFile = nil
        // TLS 1.3: the server judges the client's certificate after the client finished its side of the handshake,
        // so the refusal arrives with the first reply; it is still reported as the handshake's failure.
        let error = #expect(throws: RedisError.self) {
            let connection = try RedisConnection(endpoint: server.endpoint, tls: anonymous)
            _ = try connection.command(["PING"])
        }
        #expect(tlsReason(error).contains("certificate required"), "\(String(describing: error))")

        let withCertificate = try RedisConnection(endpoint: server.endpoint, tls: certificates.client)
        #expect(try withCertificate.command(["PING"]) == .simpleString("PONG"))
    }

    @Test func passwordsAndServerSideClosesWorkAsOverPlainTCP() throws {
        let certificates = try TestCertificates()
        let server = try RedisServerProcess(arguments: ["--requirepass", "hunter2"], tls: certificates)
        defer { server.stop() }
        let wrong = #expect(throws: RedisError.self) {
            _ = try RedisConnection(endpoint: server.endpoint, credentials: RedisCredentials(password: "nope"),
                                    tls: certificates.client)
        }
        guard case .wrongPass = wrong else {
            Issue.record("expected wrongPass, got \(String(describing: wrong))")
            return
        }
        let credentials = RedisCredentials(password: "hunter2")
        let victim = try RedisConnection(endpoint: server.endpoint, credentials: credentials, tls: certificates.client)
        let admin = try RedisConnection(endpoint: server.endpoint, credentials: credentials, tls: certificates.client)
        let id = try #require(try victim.command(["CLIENT", "ID"]).int)
        #expect(victim.isReusable)
        #expect(try admin.command(["CLIENT", "KILL", "ID", String(id)]) == .integer(1))
        var reusable = true
        for _ in 0..<100 where reusable {
            reusable = victim.isReusable
            if reusable { Thread.sleep(forTimeInterval: 0.01) }
        }
        #expect(!reusable)
        #expect(throws: RedisError.connectionClosed(endpoint: server.endpoint.description)) {
            try victim.command(["PING"])
        }
    }

    @Test func anIdleConnectionStaysReusableAfterTheServersSessionTickets() throws {
        let certificates = try TestCertificates()
        let server = try RedisServerProcess(tls: certificates)
        defer { server.stop() }
        let connection = try RedisConnection(endpoint: server.endpoint, tls: certificates.client)
        // The server sends its TLS 1.3 session tickets right after the handshake: records with no reply in them.
        Thread.sleep(forTimeInterval: 0.1)
        #expect(connection.isReusable)
        #expect(try connection.command(["PING"]) == .simpleString("PONG"))
        #expect(connection.isReusable)
    }

    @Test func aTLSClientOnAPlainPortFailsWithinTheConnectTimeout() throws {
        let certificates = try TestCertificates()
        let server = try RedisServerProcess()
        defer { server.stop() }
        let start = Date()
        let error = #expect(throws: RedisError.self) {
            let connection = try RedisConnection(endpoint: server.endpoint, tls: certificates.client, connectTimeout: 1)
            _ = try connection.command(["PING"])
        }
        #expect(Date().timeIntervalSince(start) < 3)
        switch error {
        case .tlsFailed?, .timeout?: break
        default: Issue.record("expected tlsFailed or timeout, got \(String(describing: error))")
        }
    }

    @Test func unusableFilesAreNamedWhenTheContextIsMade() throws {
        let certificates = try TestCertificates()
        func message(_ configuration: TLSConfiguration) -> String {
            do {
                _ = try TLSContext(configuration)
                return "no error"
            } catch {
                return error.message
            }
        }
        #expect(message(TLSConfiguration(caFile: "/nonexistent/ca.pem"))
            == "cannot read ca_file '/nonexistent/ca.pem': No such file or directory")
        #expect(message(TLSConfiguration(caFile: certificates.directory.path)) == "cannot read ca_file '\(certificates.directory.path)': it is a directory")
        #expect(message(TLSConfiguration(caFile: certificates.clientKey)).hasPrefix("ca_file '\(certificates.clientKey)' holds no usable PEM certificate"))
        #expect(message(TLSConfiguration(caFile: certificates.caFile, certificateFile: certificates.clientCertificate))
            == "cert_file and key_file must be given together")
        #expect(message(TLSConfiguration(caFile: certificates.caFile, certificateFile: certificates.clientCertificate,
                                         keyFile: certificates.serverKey))
            == "key_file '\(certificates.serverKey)' does not match cert_file '\(certificates.clientCertificate)'")
        #expect(message(TLSConfiguration(caFile: certificates.caFile, certificateFile: certificates.clientCertificate,
                                         keyFile: certificates.caFile)).hasPrefix("key_file '\(certificates.caFile)' holds no usable"))
        #expect(message(certificates.client) == "no error")
        #expect(message(TLSConfiguration()) == "no error")

        // The shared context is made once per configuration, and again when a file changes on disk.
        let first = try TLSContext.shared(for: certificates.client)
        #expect(try TLSContext.shared(for: certificates.client) === first)
        let contents = try Data(contentsOf: URL(fileURLWithPath: certificates.caFile))
        try FileManager.default.removeItem(atPath: certificates.caFile)
        try contents.write(to: URL(fileURLWithPath: certificates.caFile))
        #expect(try TLSContext.shared(for: certificates.client) !== first)
    }
}
