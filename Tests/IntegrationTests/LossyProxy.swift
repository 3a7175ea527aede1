import Foundation
import Glibc

/// A loopback TCP proxy in front of a real redis-server that loses a reply on purpose: when a request carrying
/// an armed command word passes, it either forwards the request, lets the server answer, and drops the client
/// connection without the reply (the command took effect, the client cannot know), or drops the connection
/// before forwarding (the command never arrived). It counts how many requests with each word reached the server.
///
/// Each client connection is pumped by its own thread; `lock` guards the counters, the armed losses and `open`.
final class LossyProxy: @unchecked Sendable {
    enum Loss {
        case afterForwarding
        case beforeForwarding
    }

    let port: Int
    private let upstreamPort: Int
    private let listener: Int32
    private let lock = NSLock()
    private var armed: [String: Loss] = [:]
    private var counts: [String: Int] = [:]
    private var open: Set<Int32> = []
    private var stopped = false

    var address: String { "127.0.0.1:\(port)" }

    init(upstreamPort: Int) throws {
        self.upstreamPort = upstreamPort
        listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = Self.loopback(port: 0)
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let listening = withUnsafeMutablePointer(to: &address) { [listener] pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                bind(listener, $0, length) == 0 && getsockname(listener, $0, &length) == 0 && listen(listener, 16) == 0
            }
        }
        port = Int(UInt16(bigEndian: address.sin_port))
        guard listener >= 0, listening else {
            close(listener)
            throw TestFailure("proxy: cannot listen on loopback")
        }
        let thread = Thread { [self] in acceptLoop() }
        thread.start()
    }

    deinit { stop() }

    /// The next request containing `word` (a whole RESP argument, e.g. "MEET") is lost as `loss` says.
    func arm(_ word: String, _ loss: Loss) {
        lock.withLock {
            armed[word] = loss
            counts[word] = counts[word] ?? 0
        }
    }

    /// Requests containing `word` that reached the server.
    func forwarded(_ word: String) -> Int {
        lock.withLock { counts[word] ?? 0 }
    }

    func stop() {
        let sockets: Set<Int32> = lock.withLock {
            guard !stopped else { return [] }
            stopped = true
            return open
        }
        // shutdown() wakes the threads blocked in accept() and poll(); each closes its own descriptors.
        shutdown(listener, Int32(SHUT_RDWR))
        for fd in sockets { shutdown(fd, Int32(SHUT_RDWR)) }
    }

    private func acceptLoop() {
        defer { close(listener) }
        while true {
            let client = accept(listener, nil, nil)
            if client < 0 {
                if errno == EINTR { continue }
                return
            }
            guard let upstream = try? HTTPTestClient.connectLoopback(port: UInt16(upstreamPort)) else {
                close(client)
                continue
            }
            let admitted = lock.withLock {
                guard !stopped else { return false }
                open.formUnion([client, upstream])
                return true
            }
            guard admitted else {
                close(client)
                close(upstream)
                continue
            }
            let thread = Thread { [self] in pump(client: client, upstream: upstream) }
            thread.start()
        }
    }

    /// Copies bytes both ways until either side closes or a loss ends the connection.
    private func pump(client: Int32, upstream: Int32) {
        defer {
            lock.withLock { open.subtract([client, upstream]) }
            close(client)
            close(upstream)
        }
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            var descriptors = [pollfd(fd: client, events: Int16(POLLIN), revents: 0), pollfd(fd: upstream, events: Int16(POLLIN), revents: 0)]
            guard poll(&descriptors, 2, 10_000) > 0 else { return }
            if descriptors[0].revents != 0 {
                let count = recv(client, &buffer, buffer.count, 0)
                guard count > 0 else { return }
                let request = Array(buffer[..<count])
                let (words, loss) = lock.withLock { () -> ([String], Loss?) in
                    let words = Self.words(in: request, among: Array(armed.keys) + Array(counts.keys))
                    let loss = words.compactMap { armed.removeValue(forKey: $0) }.first
                    return (words, loss)
                }
                if loss == .beforeForwarding { return }
                guard send(upstream, request, request.count, Int32(MSG_NOSIGNAL)) == request.count else { return }
                lock.withLock { for word in words { counts[word, default: 0] += 1 } }
                if loss == .afterForwarding {
                    // Let the server carry the command out and answer, then swallow the answer with the connection.
                    var reply = pollfd(fd: upstream, events: Int16(POLLIN), revents: 0)
                    _ = poll(&reply, 1, 5_000)
                    return
                }
            }
            if descriptors[1].revents != 0 {
                let count = recv(upstream, &buffer, buffer.count, 0)
                guard count > 0, send(client, buffer, count, Int32(MSG_NOSIGNAL)) == count else { return }
            }
        }
    }

    /// Which of `candidates` appear in `request` as a whole RESP bulk argument (CRLF on both sides).
    private static func words(in request: [UInt8], among candidates: [String]) -> [String] {
        Set(candidates).filter { word in
            let needle = Array("\r\n\(word)\r\n".utf8)
            guard request.count >= needle.count else { return false }
            return (0...(request.count - needle.count)).contains { start in
                request[start..<(start + needle.count)].elementsEqual(needle)
            }
        }
    }

    private static func loopback(port: Int) -> sockaddr_in {
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        return address
    }
}
