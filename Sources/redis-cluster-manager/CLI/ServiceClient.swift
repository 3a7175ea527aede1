import Foundation
import Glibc

/// A small blocking HTTP/1.1 client for the CLI: one request per connection, `Content-Length`, chunked and
/// read-to-close bodies, and a line-by-line reader for event streams. It speaks to the service only.
struct ServiceClient {
    let host: String
    let port: UInt16
    /// A path prefix when the service sits under one behind a proxy, without the trailing slash.
    let basePath: String
    let token: String?
    var timeout: Double = 30

    struct Response {
        var status: Int
        var headers: [String: String]
        var body: [UInt8]

        var text: String { String(decoding: body, as: UTF8.self) }
        var object: [String: Any] { (try? JSONSerialization.jsonObject(with: Data(body))) as? [String: Any] ?? [:] }
    }

    /// `http://host:port[/prefix]`; https needs a TLS-terminating proxy's plain side or a tunnel.
    init(server: String, token: String?) throws(CLIError) {
        guard server.hasPrefix("http://") else {
            throw .usage("--server must be an http:// URL, e.g. http://127.0.0.1:8080 (put TLS in a proxy's hands)")
        }
        var rest = Substring(server.dropFirst("http://".count))
        var prefix = ""
        if let slash = rest.firstIndex(of: "/") {
            prefix = String(rest[slash...])
            rest = rest[..<slash]
            while prefix.hasSuffix("/") { prefix.removeLast() }
        }
        let hostPart: Substring
        var portPart: Substring = "80"
        if rest.hasPrefix("["), let close = rest.firstIndex(of: "]") {
            hostPart = rest[rest.index(after: rest.startIndex)..<close]
            let after = rest[rest.index(after: close)...]
            if after.hasPrefix(":") { portPart = after.dropFirst() } else if !after.isEmpty { throw .usage("--server \(server) is not a URL") }
        } else if let colon = rest.lastIndex(of: ":") {
            hostPart = rest[..<colon]
            portPart = rest[rest.index(after: colon)...]
        } else {
            hostPart = rest
        }
        guard !hostPart.isEmpty, let port = UInt16(portPart), port > 0 else { throw .usage("--server \(server) is not a URL") }
        host = String(hostPart)
        self.port = port
        basePath = prefix
        self.token = token
    }

    func get(_ path: String) throws(CLIError) -> Response { try request("GET", path) }

    /// The body is serialised with sorted keys, so the same command sends the same bytes (what Idempotency-Key compares).
    func post(_ path: String, json: [String: Any], headers: [(String, String)] = []) throws(CLIError) -> Response {
        let body = (try? JSONSerialization.data(withJSONObject: json, options: [.sortedKeys])) ?? Data("{}".utf8)
        return try request("POST", path, body: [UInt8](body), headers: headers)
    }

    func request(_ method: String, _ path: String, body: [UInt8]? = nil, headers: [(String, String)] = []) throws(CLIError) -> Response {
        let socket = try connect()
        defer { close(socket) }
        try send(socket, head(method, path, body: body, accept: "application/json", extra: headers) + (body ?? []))
        var reader = LineReader(socket: socket, timeout: timeout, server: description)
        return try reader.response()
    }

    /// Opens `GET path` as an event stream and hands each event (its `event:` name and `data:`) to `handle` until
    /// the server ends the stream or `handle` answers false. Answers the status when it is not 200 (with the body).
    func stream(_ path: String, lastEventId: String?, handle: (String, String) -> Bool) throws(CLIError) -> Response? {
        let socket = try connect()
        defer { close(socket) }
        var extra: [(String, String)] = []
        if let lastEventId { extra.append(("Last-Event-ID", lastEventId)) }
        try send(socket, head("GET", path, body: nil, accept: "text/event-stream", extra: extra))
        // Heartbeats arrive every 15 s; a minute of silence means the connection is gone.
        var reader = LineReader(socket: socket, timeout: 60, server: description)
        let (status, headers) = try reader.head()
        guard status == 200 else {
            return Response(status: status, headers: headers, body: try reader.body(headers: headers))
        }
        let chunked = headers["transfer-encoding"]?.lowercased().contains("chunked") == true
        var lines = EventLines(reader: reader, chunked: chunked)
        var name = "message"
        var data = ""
        while let line = try lines.next() {
            if line.isEmpty {
                if !data.isEmpty {
                    if !handle(name, data) { return nil }
                }
                name = "message"
                data = ""
            } else if line.hasPrefix("event:") {
                name = line.dropFirst(6).trimmingCharacters(in: .whitespaces)
            } else if line.hasPrefix("data:") {
                data += (data.isEmpty ? "" : "\n") + line.dropFirst(5).trimmingCharacters(in: .whitespaces)
            }
        }
        return nil
    }

    var description: String { host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)" }

    private func head(_ method: String, _ path: String, body: [UInt8]?, accept: String,
                      extra: [(String, String)] = []) -> [UInt8] {
        var text = "\(method) \(basePath)\(path) HTTP/1.1\r\nHost: \(description)\r\nAccept: \(accept)\r\nConnection: close\r\n"
        text += "User-Agent: redis-cluster-manager-cli\r\n"
        if let token { text += "Authorization: Bearer \(token)\r\n" }
        for (name, value) in extra { text += "\(name): \(value)\r\n" }
        if let body { text += "Content-Type: application/json\r\nContent-Length: \(body.count)\r\n" }
        return Array((text + "\r\n").utf8)
    }

    private func connect() throws(CLIError) -> Int32 {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        guard getaddrinfo(host, String(port), &hints, &list) == 0, let first = list else {
            throw .unreachable("cannot resolve \(host)")
        }
        defer { freeaddrinfo(first) }
        var reason = "no address"
        var next: UnsafeMutablePointer<addrinfo>? = first
        while let info = next?.pointee {
            next = info.ai_next
            let fd = socket(info.ai_family, info.ai_socktype | Int32(SOCK_CLOEXEC.rawValue), info.ai_protocol)
            guard fd >= 0 else { continue }
            var tv = timeval(tv_sec: 5, tv_usec: 0)
            setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
            if Glibc.connect(fd, info.ai_addr, info.ai_addrlen) == 0 { return fd }
            reason = String(cString: strerror(errno))
            close(fd)
        }
        throw .unreachable("cannot connect to the service at \(description): \(reason)")
    }

    private func send(_ socket: Int32, _ bytes: [UInt8]) throws(CLIError) {
        var sent = 0
        while sent < bytes.count {
            let n = bytes[sent...].withUnsafeBytes { Glibc.send(socket, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            if n < 0 && errno == EINTR { continue }
            guard n > 0 else { throw .unreachable("the service at \(description) closed the connection") }
            sent += n
        }
    }
}

/// Reads a response from a socket: the head, then the body by its framing. It trusts no length the server sends:
/// a negative or unreadable one is an error, and a body over `maxBody` or a line over `maxLine` stops the read, so a
/// broken or hostile server can neither crash the CLI nor make it take all memory. Lines are found in one pass.
struct LineReader {
    static let maxBody = 64 << 20
    static let maxLine = 16 << 20
    let socket: Int32
    let server: String
    private var buffer: [UInt8] = []
    private var start = 0
    /// Where the search for the next line end resumes: bytes before it hold none.
    private var scanned = 0

    init(socket: Int32, timeout: Double, server: String) {
        self.socket = socket
        self.server = server
        var tv = timeval(tv_sec: Int(timeout), tv_usec: 0)
        setsockopt(socket, SOL_SOCKET, SO_RCVTIMEO, &tv, socklen_t(MemoryLayout<timeval>.size))
    }

    mutating func response() throws(CLIError) -> ServiceClient.Response {
        let (status, headers) = try head()
        return ServiceClient.Response(status: status, headers: headers, body: try body(headers: headers))
    }

    mutating func head() throws(CLIError) -> (Int, [String: String]) {
        guard let statusLine = try line() else { throw .unreachable("the service at \(server) answered nothing") }
        let parts = statusLine.split(separator: " ")
        guard parts.count >= 2, parts[0].hasPrefix("HTTP/1."), let status = Int(parts[1]) else {
            throw .unreachable("\(server) did not answer HTTP")
        }
        var headers: [String: String] = [:]
        while let line = try line(), !line.isEmpty {
            guard let colon = line.firstIndex(of: ":") else { continue }
            headers[line[..<colon].lowercased()] = line[line.index(after: colon)...].trimmingCharacters(in: .whitespaces)
        }
        return (status, headers)
    }

    mutating func body(headers: [String: String]) throws(CLIError) -> [UInt8] {
        if headers["transfer-encoding"]?.lowercased().contains("chunked") == true {
            var body: [UInt8] = []
            while let sizeLine = try line() {
                let size = try chunkSize(sizeLine)
                if size == 0 { break }
                guard size <= Self.maxBody - body.count else { throw tooLarge() }
                body += try bytes(size)
                _ = try line()
            }
            return body
        }
        if let text = headers["content-length"] {
            guard let length = Self.length(text) else {
                throw .unreachable("the service at \(server) sent Content-Length '\(TerminalText.safe(String(text.prefix(40))))', not a length")
            }
            guard length <= Self.maxBody else { throw tooLarge() }
            return try bytes(length)
        }
        var body: [UInt8] = Array(buffer[start...])
        start = buffer.count
        scanned = start
        while let more = try receive() {
            guard more.count <= Self.maxBody - body.count else { throw tooLarge() }
            body += more
        }
        return body
    }

    /// The size of the chunk a chunked body announces in `line` (hex, before any extension).
    mutating func chunkSize(_ line: String) throws(CLIError) -> Int {
        let digits = line.split(separator: ";", omittingEmptySubsequences: false).first.map { $0.trimmingCharacters(in: .whitespaces) } ?? ""
        guard !digits.isEmpty, digits.count <= 15, digits.allSatisfy(\.isHexDigit), let size = Int(digits, radix: 16) else {
            throw .unreachable("the service at \(server) sent the chunk size '\(TerminalText.safe(String(line.prefix(40))))', not a size")
        }
        return size
    }

    /// A decimal length of at most 18 digits, no sign.
    static func length(_ text: String) -> Int? {
        let digits = text.trimmingCharacters(in: .whitespaces)
        guard !digits.isEmpty, digits.count <= 18, digits.allSatisfy({ $0.isASCII && $0.isNumber }) else { return nil }
        return Int(digits)
    }

    private func tooLarge() -> CLIError {
        .unreachable("the service at \(server) sent an answer larger than the \(Self.maxBody >> 20) MiB the CLI accepts")
    }

    /// One CRLF- or LF-terminated line, or nil at the end of the stream.
    mutating func line() throws(CLIError) -> String? {
        while true {
            if let newline = buffer[max(start, scanned)...].firstIndex(of: 10) {
                var end = newline
                if end > start && buffer[end - 1] == 13 { end -= 1 }
                let text = String(decoding: buffer[start..<end], as: UTF8.self)
                start = newline + 1
                scanned = start
                compact()
                return text
            }
            scanned = buffer.count
            guard buffer.count - start <= Self.maxLine else {
                throw .unreachable("the service at \(server) sent a line longer than \(Self.maxLine >> 20) MiB")
            }
            guard let more = try receive() else {
                if start < buffer.count {
                    let text = String(decoding: buffer[start...], as: UTF8.self)
                    start = buffer.count
                    return text
                }
                return nil
            }
            buffer += more
        }
    }

    mutating func bytes(_ count: Int) throws(CLIError) -> [UInt8] {
        guard count >= 0, count <= Self.maxBody else { throw tooLarge() }
        while buffer.count - start < count {
            guard let more = try receive() else { throw .unreachable("the service at \(server) cut the response short") }
            buffer += more
        }
        let out = Array(buffer[start..<(start + count)])
        start += count
        scanned = max(scanned, start)
        compact()
        return out
    }

    /// Drops what was read once it is more than half the buffer: each byte is moved a bounded number of times.
    private mutating func compact() {
        if start > 65_536 && start * 2 > buffer.count {
            buffer.removeFirst(start)
            scanned -= start
            start = 0
        }
    }

    private func receive() throws(CLIError) -> [UInt8]? {
        var chunk = [UInt8](repeating: 0, count: 65_536)
        while true {
            let n = chunk.withUnsafeMutableBytes { recv(socket, $0.baseAddress, $0.count, 0) }
            if n > 0 { return Array(chunk[..<n]) }
            if n == 0 { return nil }
            if errno == EINTR { continue }
            if errno == EAGAIN || errno == EWOULDBLOCK { throw .unreachable("the service at \(server) stopped answering") }
            throw .unreachable("reading from the service at \(server): \(String(cString: strerror(errno)))")
        }
    }
}

/// The lines of an event stream, de-chunked when the response is chunked.
struct EventLines {
    var reader: LineReader
    let chunked: Bool
    private var pending: [UInt8] = []
    /// Bytes of `pending` already handed out as lines.
    private var taken = 0

    init(reader: LineReader, chunked: Bool) {
        self.reader = reader
        self.chunked = chunked
    }

    mutating func next() throws(CLIError) -> String? {
        guard chunked else { return try reader.line() }
        while true {
            if let newline = pending[taken...].firstIndex(of: 10) {
                var end = newline
                if end > taken && pending[end - 1] == 13 { end -= 1 }
                let text = String(decoding: pending[taken..<end], as: UTF8.self)
                taken = newline + 1
                return text
            }
            // What is left is the start of a line: keep only that.
            pending.removeFirst(taken)
            taken = 0
            guard pending.count <= LineReader.maxLine else {
                throw .unreachable("the service sent an event line longer than \(LineReader.maxLine >> 20) MiB")
            }
            guard let sizeLine = try reader.line() else { return nil }
            let size = try reader.chunkSize(sizeLine)
            guard size > 0 else { return nil }
            pending += try reader.bytes(size)
            _ = try reader.line()
        }
    }
}
