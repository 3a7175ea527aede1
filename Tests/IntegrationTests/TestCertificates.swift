import Foundation
import RESP

/// Throwaway certificates made by the `openssl` tool in a temp directory: a CA, a server certificate for 127.0.0.1
/// and localhost (also usable as a client certificate, as Redis uses it for its own outgoing links), a client
/// certificate, and an unrelated CA whose trust makes every server certificate fail verification. (The same as
/// RESPTests' own, which that target cannot share.)
final class TestCertificates {
    let directory: URL

    var caFile: String { path("ca.crt") }
    var otherCAFile: String { path("other-ca.crt") }
    var serverCertificate: String { path("server.crt") }
    var serverKey: String { path("server.key") }
    var clientCertificate: String { path("client.crt") }
    var clientKey: String { path("client.key") }
    var selfSignedCertificate: String { path("self-signed.crt") }
    var selfSignedKey: String { path("self-signed.key") }

    init() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("resp-tls-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        try makeCA("ca", subject: "/CN=rcm test CA")
        try makeCA("other-ca", subject: "/CN=rcm unrelated CA")
        try makeLeaf("server", subject: "/CN=rcm test server", alternativeNames: "IP:127.0.0.1,DNS:localhost")
        try makeLeaf("client", subject: "/CN=rcm test client", alternativeNames: "DNS:rcm-client")
        try openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                     "-keyout", selfSignedKey, "-out", selfSignedCertificate, "-days", "2", "-subj", "/CN=rcm self-signed",
                     "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost"])
    }

    deinit {
        try? FileManager.default.removeItem(at: directory)
    }

    /// The client side: trust the test CA, show the client certificate.
    var client: TLSConfiguration {
        TLSConfiguration(caFile: caFile, certificateFile: clientCertificate, keyFile: clientKey)
    }

    /// redis-server flags for a TLS-only cluster node on `port` (the cluster bus and replication over TLS too);
    /// `authClients` is its `--tls-auth-clients` (yes, no, optional).
    func serverArguments(port: Int, authClients: String = "no") -> [String] {
        ["--port", "0", "--tls-port", "\(port)", "--tls-cluster", "yes", "--tls-replication", "yes",
         "--tls-cert-file", serverCertificate, "--tls-key-file", serverKey, "--tls-ca-cert-file", caFile,
         "--tls-auth-clients", authClients]
    }

    /// redis-cli flags to reach such a node, with the client certificate.
    var cliArguments: [String] {
        ["--tls", "--cacert", caFile, "--cert", clientCertificate, "--key", clientKey]
    }

    private func path(_ name: String) -> String { directory.appendingPathComponent(name).path }

    private func makeCA(_ name: String, subject: String) throws {
        try openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                     "-keyout", path("\(name).key"), "-out", path("\(name).crt"), "-days", "2", "-subj", subject,
                     "-addext", "basicConstraints=critical,CA:TRUE", "-addext", "keyUsage=critical,keyCertSign,cRLSign"])
    }

    private func makeLeaf(_ name: String, subject: String, alternativeNames: String) throws {
        let extensions = path("\(name).ext")
        try Data("""
            subjectAltName=\(alternativeNames)
            basicConstraints=CA:FALSE
            keyUsage=digitalSignature
            extendedKeyUsage=serverAuth,clientAuth

            """.utf8).write(to: URL(fileURLWithPath: extensions))
        try openssl(["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
                     "-keyout", path("\(name).key"), "-out", path("\(name).csr"), "-subj", subject])
        try openssl(["x509", "-req", "-in", path("\(name).csr"), "-CA", caFile, "-CAkey", path("ca.key"),
                     "-CAcreateserial", "-out", path("\(name).crt"), "-days", "2", "-extfile", extensions])
    }

    private func openssl(_ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/openssl")
        process.arguments = arguments
        let errors = Pipe()
        process.standardOutput = FileHandle.nullDevice
        process.standardError = errors
        try process.run()
        let output = errors.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw TestFailure("openssl \(arguments[0]) failed: \(String(decoding: output, as: UTF8.self))")
        }
    }
}
