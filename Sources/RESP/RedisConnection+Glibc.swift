import Glibc

/// Socket primitives. The socket is non-blocking from creation; every wait goes through
/// poll() with the caller's deadline, so no call can block past it.
extension RedisConnection {
    static let readable = Int16(POLLIN)
    static let writable = Int16(POLLOUT)

    static func monotonicSeconds() -> Double {
        var now = timespec()
        clock_gettime(CLOCK_MONOTONIC, &now)
        return Double(now.tv_sec) + Double(now.tv_nsec) / 1_000_000_000
    }

    static func closeSocket(_ fd: Int32) {
        // Not retried on EINTR: on Linux the descriptor is released regardless.
        _ = Glibc.close(fd)
    }

    /// Resolves the host (blocking, outside the timeout: getaddrinfo has none) and tries
    /// each address in turn until one connects or the deadline passes.
    static func connectSocket(to endpoint: RedisEndpoint, timeout: Double) throws(RedisError) -> Int32 {
        let deadline = monotonicSeconds() + timeout
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_protocol = Int32(IPPROTO_TCP)
        hints.ai_flags = AI_NUMERICSERV
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(endpoint.host, String(endpoint.port), &hints, &list)
        guard status == 0, let first = list else {
            let reason = status == EAI_SYSTEM ? errnoText() : String(cString: gai_strerror(status))
            throw .connectFailed(endpoint: endpoint.description, reason: "cannot resolve \(endpoint.host): \(reason)")
        }
        defer { freeaddrinfo(first) }

        var lastError = RedisError.connectFailed(endpoint: endpoint.description, reason: "no usable address")
        var next: UnsafeMutablePointer<addrinfo>? = first
        while let info = next?.pointee {
            next = info.ai_next
            do throws(RedisError) {
                return try connectAddress(info, endpoint: endpoint, deadline: deadline)
            } catch {
                if case .timeout = error { throw error }
                lastError = error
            }
        }
        throw lastError
    }

    private static func connectAddress(
        _ info: addrinfo, endpoint: RedisEndpoint, deadline: Double
    ) throws(RedisError) -> Int32 {
        let flags = Int32(SOCK_CLOEXEC.rawValue) | Int32(SOCK_NONBLOCK.rawValue)
        let fd = socket(info.ai_family, info.ai_socktype | flags, info.ai_protocol)
        guard fd >= 0 else {
            throw .connectFailed(endpoint: endpoint.description, reason: "socket: \(errnoText())")
        }
        var connected = false
        defer { if !connected { closeSocket(fd) } }

        // EINTR leaves a non-blocking connect running in the background, just like EINPROGRESS.
        if connect(fd, info.ai_addr, info.ai_addrlen) != 0 {
            guard errno == EINPROGRESS || errno == EINTR else {
                throw .connectFailed(endpoint: endpoint.description, reason: errnoText())
            }
            _ = try wait(fd: fd, for: writable, until: deadline, endpoint: endpoint, operation: "connect")
            var error: Int32 = 0
            var length = socklen_t(MemoryLayout<Int32>.size)
            guard getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length) == 0 else {
                throw .connectFailed(endpoint: endpoint.description, reason: errnoText())
            }
            guard error == 0 else {
                throw .connectFailed(endpoint: endpoint.description, reason: String(cString: strerror(error)))
            }
        }
        // Commands are small request/reply exchanges; Nagle would add latency to each.
        var one: Int32 = 1
        _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        connected = true
        return fd
    }

    /// True when the connection is open and the server has neither closed it nor sent anything unasked.
    /// An idle connection to a server that restarted or dropped it reads as hangup here, so a pool can discard
    /// it before a command is sent into the void.
    ///
    /// Over TLS a readable socket may only carry records with no reply in them (TLS 1.3 session tickets arrive after
    /// the handshake): those are read and the check goes on; any application data still means not reusable.
    public var isReusable: Bool {
        guard fd >= 0 else { return false }
        if tlsSession?.hasBufferedInput == true { return false }
        var descriptor = pollfd(fd: fd, events: Self.readable, revents: 0)
        var records = 0
        while true {
            let ready = poll(&descriptor, 1, 0)
            if ready == 0 { return true }
            if ready > 0 {
                let trouble = Int16(POLLERR) | Int16(POLLHUP) | Int16(POLLNVAL)
                guard let tlsSession, descriptor.revents & trouble == 0, records < 16 else { return false }
                records += 1
                guard (try? tlsSession.read(into: &readBuffer)) == 0 else { return false }
                continue
            }
            if errno != EINTR { return false }
        }
    }

    /// Waits until the socket has one of `events` (or an error/hangup to report). Over TLS, bytes OpenSSL already
    /// holds count as readable, and a read or write blocked on the other direction polls for that one.
    func wait(for events: Int16, until deadline: Double, operation: String) throws(RedisError) -> Int16 {
        guard let tlsSession else {
            return try Self.wait(fd: fd, for: events, until: deadline, endpoint: endpoint, operation: operation)
        }
        if events & Self.readable != 0 && tlsSession.hasBufferedInput { return Self.readable }
        return try Self.wait(fd: fd, for: tlsSession.pollEvents(events), until: deadline, endpoint: endpoint,
                             operation: operation)
    }

    static func wait(
        fd: Int32, for events: Int16, until deadline: Double, endpoint: RedisEndpoint, operation: String
    ) throws(RedisError) -> Int16 {
        while true {
            let remaining = deadline - monotonicSeconds()
            guard remaining > 0 else { throw .timeout(endpoint: endpoint.description, operation: operation) }
            var descriptor = pollfd(fd: fd, events: events, revents: 0)
            let milliseconds = Int32(min((remaining * 1000).rounded(.up), Double(Int32.max)))
            let ready = poll(&descriptor, 1, milliseconds)
            if ready > 0 {
                guard descriptor.revents & Int16(POLLNVAL) == 0 else {
                    throw .io(endpoint: endpoint.description, reason: "poll: invalid descriptor")
                }
                return descriptor.revents
            }
            if ready < 0 && errno != EINTR {
                throw .io(endpoint: endpoint.description, reason: "poll: \(errnoText())")
            }
        }
    }

    /// Sends what the socket accepts now; 0 means it is full. MSG_NOSIGNAL turns a
    /// peer reset into EPIPE instead of a process-killing SIGPIPE.
    func sendSome(_ bytes: [UInt8], from offset: Int) throws(RedisError) -> Int {
        if let tlsSession { return try tlsSession.write(bytes, from: offset) }
        while true {
            let sent = bytes.withUnsafeBytes { raw in
                Glibc.send(fd, raw.baseAddress! + offset, raw.count - offset, Int32(MSG_NOSIGNAL))
            }
            if sent >= 0 { return sent }
            switch errno {
            case EINTR: continue
            case EAGAIN, EWOULDBLOCK: return 0
            case EPIPE, ECONNRESET: throw .connectionClosed(endpoint: endpoint.description)
            default: throw .io(endpoint: endpoint.description, reason: "send: \(Self.errnoText())")
            }
        }
    }

    /// Reads what the socket has now into `buffer`; 0 means nothing yet. End of stream throws.
    func receiveSome(into buffer: inout [UInt8]) throws(RedisError) -> Int {
        if let tlsSession { return try tlsSession.read(into: &buffer) }
        while true {
            let received = buffer.withUnsafeMutableBytes { raw in
                Glibc.recv(fd, raw.baseAddress, raw.count, 0)
            }
            if received > 0 { return received }
            if received == 0 { throw .connectionClosed(endpoint: endpoint.description) }
            switch errno {
            case EINTR: continue
            case EAGAIN, EWOULDBLOCK: return 0
            case ECONNRESET: throw .connectionClosed(endpoint: endpoint.description)
            default: throw .io(endpoint: endpoint.description, reason: "recv: \(Self.errnoText())")
            }
        }
    }

    static func errnoText() -> String {
        String(cString: strerror(errno))
    }
}
