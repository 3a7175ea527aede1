import Foundation
import Glibc
import Testing

/// The CLI pointed at a deliberately broken server: negative and huge lengths, a bad chunk size, an endless line,
/// a success that is not the service's JSON, and escape sequences in the data. It never crashes, never takes all
/// memory, says what is wrong (exit 4), and shows control characters escaped, never to the terminal.
@Suite(.serialized)
struct CLIBrokenServerTests {
    /// A loopback listener that answers every connection with `response`, after reading the request's head.
    final class CannedServer: @unchecked Sendable {
        let port: UInt16
        private let listener: Int32
        private let response: [UInt8]

        init(_ response: [UInt8]) throws {
            self.response = response
            listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let listening = withUnsafeMutablePointer(to: &address) { [listener] pointer in
                pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                    bind(listener, $0, length) == 0 && getsockname(listener, $0, &length) == 0 && listen(listener, 8) == 0
                }
            }
            port = UInt16(bigEndian: address.sin_port)
            guard listening else { throw TestFailure("cannot listen on loopback") }
            Thread.detachNewThread { [self] in serve() }
        }

        private func serve() {
            while true {
                let client = accept(listener, nil, nil)
                guard client >= 0 else { return }
                var head: [UInt8] = []
                var byte: UInt8 = 0
                while recv(client, &byte, 1, 0) == 1 {
                    head.append(byte)
                    if head.suffix(4) == [13, 10, 13, 10] { break }
                }
                var sent = 0
                while sent < response.count {
                    let n = response[sent...].withUnsafeBytes { send(client, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
                    if n <= 0 { break }
                    sent += n
                }
                close(client)
            }
        }

        func stop() {
            shutdown(listener, Int32(SHUT_RDWR))
            close(listener)
        }
    }

    static func run(_ response: String, _ arguments: [String] = ["clusters"]) throws -> CLIIntegrationTests.Run {
        try run(Array(response.utf8), arguments)
    }

    static func run(_ response: [UInt8], _ arguments: [String] = ["clusters"]) throws -> CLIIntegrationTests.Run {
        let server = try CannedServer(response)
        defer { server.stop() }
        return try CLIIntegrationTests.cli(arguments, server: "http://127.0.0.1:\(server.port)", token: nil)
    }

    @Test func lengthsItCannotTrustAreErrorsNotCrashes() throws {
        let negative = try Self.run("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: -5\r\n\r\n{}")
        #expect(negative.status == 4 && negative.errors.contains("not a length"), "\(negative.status) \(negative.errors)")
        let overflowing = try Self.run("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 99999999999999999999999\r\n\r\n{}")
        #expect(overflowing.status == 4 && overflowing.errors.contains("not a length"), "\(overflowing.status) \(overflowing.errors)")
        let huge = try Self.run("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000000000000\r\n\r\n{}")
        #expect(huge.status == 4 && huge.errors.contains("64 MiB"), "\(huge.status) \(huge.errors)")
        let chunk = try Self.run("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n-5\r\n{}\r\n0\r\n\r\n")
        #expect(chunk.status == 4 && chunk.errors.contains("not a size"), "\(chunk.status) \(chunk.errors)")
        let bigChunks = try Self.run("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\nfffffffffff\r\n{}")
        #expect(bigChunks.status == 4 && bigChunks.errors.contains("64 MiB"), "\(bigChunks.status) \(bigChunks.errors)")
        // A head line of 20 MiB without an end: refused once past the line limit, not read to the end of memory.
        let endless = Array("HTTP/1.1 200 OK\r\nX-Long: ".utf8) + [UInt8](repeating: UInt8(ascii: "a"), count: 20 << 20)
        let long = try Self.run(endless)
        #expect(long.status == 4 && long.errors.contains("longer than"), "\(long.status) \(long.errors.prefix(300))")
        for run in [negative, overflowing, huge, chunk, bigChunks, long] { #expect(run.status != 132, "the CLI crashed") }
    }

    @Test func aSuccessThatIsNotTheServicesJSONExits4() throws {
        let html = try Self.run("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 13\r\n\r\n<html></html>")
        #expect(html.status == 4 && html.errors.contains("not the service's JSON"), "\(html.status) \(html.errors)")
        #expect(html.output.isEmpty, "\(html.output)")
    }

    @Test func controlCharactersFromTheServerAreShownEscaped() throws {
        let body = #"{"items":[{"id":"\u001b[31mred","seeds":["\u001b]0;title\u0007"],"created_by":"x","created_at":"now"}]}"#
        let listed = try Self.run("HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: \(body.utf8.count)\r\n\r\n\(body)")
        #expect(listed.status == 0, "\(listed.errors)")
        #expect(!listed.output.contains("\u{1B}") && !listed.output.contains("\u{07}"), "a raw control character reached the terminal")
        #expect(listed.output.contains("\\x1b[31mred") && listed.output.contains("\\x07"), "\(listed.output)")
        let problem = #"{"type":"about:blank","title":"Bad","status":400,"detail":"evil \u001b[2J here"}"#
        let refused = try Self.run("HTTP/1.1 400 Bad Request\r\nContent-Type: application/problem+json\r\nContent-Length: \(problem.utf8.count)\r\n\r\n\(problem)")
        #expect(refused.status == 2 && !refused.errors.contains("\u{1B}") && refused.errors.contains("\\x1b[2J"), "\(refused.errors)")
    }
}
