import Foundation
import Glibc

/// A client socket that sends a request now and reads its answer later: for requests the server parks (long
/// polls, event streams), thousands at a time.
final class RawHTTPConnection {
    let fd: Int32
    private var received: [UInt8] = []

    init(port: UInt16, request: String) throws {
        fd = try HTTPTestClient.connectLoopback(port: port)
        let bytes = Array(request.utf8)
        guard bytes.withUnsafeBytes({ send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }) == bytes.count else {
            close(fd)
            throw TestFailure("send failed: errno \(errno)")
        }
    }

    deinit { close(fd) }

    /// Reads until `done` holds for what arrived, the peer closes, or `timeout` passes; returns everything so far.
    @discardableResult
    func read(timeout: Double, until done: (String) -> Bool = { _ in false }) -> String {
        let deadline = Date().addingTimeInterval(timeout)
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while !done(text), Date() < deadline {
            var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let wait = Int32(max(1, min(200, deadline.timeIntervalSinceNow * 1000)))
            guard poll(&entry, 1, wait) > 0 else { continue }
            let count = buffer.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if count <= 0 { break }
            received.append(contentsOf: buffer[..<count])
        }
        return text
    }

    /// Whether the server closed the connection (a read returns end of stream within `timeout`).
    func isClosedByPeer(timeout: Double) -> Bool {
        var entry = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
        guard poll(&entry, 1, Int32(timeout * 1000)) > 0 else { return false }
        var byte: UInt8 = 0
        let count = recv(fd, &byte, 1, Int32(MSG_PEEK))
        return count == 0
    }

    var text: String { String(decoding: received, as: UTF8.self) }

    /// The status code of a complete response head, if one arrived.
    var status: Int? {
        guard text.hasPrefix("HTTP/1.1 "), text.count >= 12 else { return nil }
        return Int(text.dropFirst(9).prefix(3))
    }

    /// The JSON body of a complete Content-Length response.
    var jsonBody: [String: Any] {
        guard let split = text.range(of: "\r\n\r\n") else { return [:] }
        return (try? JSONSerialization.jsonObject(with: Data(text[split.upperBound...].utf8))) as? [String: Any] ?? [:]
    }
}
