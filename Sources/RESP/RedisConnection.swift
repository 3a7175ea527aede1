/// A blocking connection to one Redis server, speaking RESP2.
///
/// Not Sendable: it holds a socket and a parse buffer with no locking, so it must be
/// owned by one thread (or task) at a time. Any transport failure, timeout or protocol
/// error closes it, because the request/reply stream can no longer be trusted;
/// error replies do not, and the connection stays usable after them.
public final class RedisConnection {
    public let endpoint: RedisEndpoint
    /// Seconds one `command` or `pipeline` call may take, from sending to the last reply byte.
    public var readTimeout: Double
    /// What the connection authenticated with, so a pool files it under the right cluster.
    public let credentials: RedisCredentials?
    /// The TLS it speaks, nil for plain TCP; part of a pool's key like `credentials`.
    public let tls: TLSConfiguration?

    private(set) var fd: Int32
    /// Present when `tls` is: every byte of the socket goes through it.
    private(set) var tlsSession: TLSSession?
    var decoder = RESPDecoder()
    var readBuffer = [UInt8](repeating: 0, count: 64 * 1024)

    /// Connects (trying every resolved address, then the TLS handshake if `tls` is given, all within
    /// `connectTimeout` seconds) and, if `credentials` has a password, authenticates with `AUTH`.
    public init(
        endpoint: RedisEndpoint, credentials: RedisCredentials? = nil, tls: TLSConfiguration? = nil,
        connectTimeout: Double = 2, readTimeout: Double = 5
    ) throws(RedisError) {
        let deadline = Self.monotonicSeconds() + connectTimeout
        self.endpoint = endpoint
        self.readTimeout = readTimeout
        self.credentials = credentials
        self.tls = tls
        self.fd = try Self.connectSocket(to: endpoint, timeout: connectTimeout)
        if let tls {
            do throws(RedisError) {
                tlsSession = try Self.startTLS(fd: fd, endpoint: endpoint, configuration: tls, deadline: deadline)
            } catch {
                close()
                throw error
            }
        }
        if let password = credentials?.password {
            var args = ["AUTH"]
            if let username = credentials?.username {
                args.append(username)
            }
            args.append(password)
            do throws(RedisError) {
                _ = try command(args)
            } catch {
                close()
                throw error
            }
        }
    }

    deinit {
        close()
    }

    public var isClosed: Bool { fd < 0 }

    public func close() {
        guard fd >= 0 else { return }
        tlsSession?.shutdown()
        tlsSession = nil
        Self.closeSocket(fd)
        fd = -1
    }

    /// Sends one command; an error reply is thrown as the `RedisError` it classifies as.
    public func command(_ args: [String]) throws(RedisError) -> RESPValue {
        try checkedReply(exchange(RESPEncoder.command(args), replyCount: 1)[0])
    }

    public func command(bytes args: [[UInt8]]) throws(RedisError) -> RESPValue {
        try checkedReply(exchange(RESPEncoder.command(args), replyCount: 1)[0])
    }

    /// Sends all commands in one write, then reads one reply per command.
    /// Error replies are returned per command; transport failures are thrown.
    public func pipeline(_ commands: [[[UInt8]]]) throws(RedisError) -> [Result<RESPValue, RedisError>] {
        guard !commands.isEmpty else { return [] }
        return try exchange(Self.request(commands), replyCount: commands.count).map(Self.result)
    }

    /// Every command of a pipeline, encoded back to back for one write.
    static func request(_ commands: [[[UInt8]]]) -> [UInt8] {
        commands.reduce(into: []) { $0 += RESPEncoder.command($1) }
    }

    /// A pipelined reply as its command's outcome: error replies become the `RedisError` they classify as.
    static func result(_ reply: RESPValue) -> Result<RESPValue, RedisError> {
        if case .error(let text) = reply { .failure(.fromErrorReply(text)) } else { .success(reply) }
    }

    private func checkedReply(_ reply: RESPValue) throws(RedisError) -> RESPValue {
        try Self.result(reply).get()
    }

    private func exchange(_ request: [UInt8], replyCount: Int) throws(RedisError) -> [RESPValue] {
        guard fd >= 0 else { throw .connectionClosed(endpoint: endpoint.description) }
        let deadline = Self.monotonicSeconds() + readTimeout
        do throws(RedisError) {
            try send(request, until: deadline)
            var replies: [RESPValue] = []
            replies.reserveCapacity(replyCount)
            while replies.count < replyCount {
                replies.append(try readReply(until: deadline))
            }
            return replies
        } catch {
            close()
            throw error
        }
    }

    func send(_ request: [UInt8], until deadline: Double) throws(RedisError) {
        var offset = 0
        while offset < request.count {
            let sent = try sendSome(request, from: offset)
            offset += sent
            guard sent == 0 else { continue }
            let events = try wait(for: Self.writable | Self.readable, until: deadline, operation: "write")
            // Take in replies while still writing: a large pipeline could otherwise fill both
            // directions' socket buffers and deadlock against the server.
            if events & Self.readable != 0 {
                try receive()
            }
        }
    }

    private func readReply(until deadline: Double) throws(RedisError) -> RESPValue {
        while true {
            if let reply = try bufferedReply() { return reply }
            guard Self.monotonicSeconds() < deadline else {
                throw .timeout(endpoint: endpoint.description, operation: "read")
            }
            if try receive() == 0 {
                _ = try wait(for: Self.readable, until: deadline, operation: "read")
            }
        }
    }

    /// The next reply already received, if complete.
    func bufferedReply() throws(RedisError) -> RESPValue? {
        do throws(RESPProtocolError) {
            return try decoder.next()
        } catch {
            throw .protocolError(endpoint: endpoint.description, reason: error.message)
        }
    }

    /// Moves whatever the socket has into the decoder; 0 means nothing was ready. Over TLS it also empties what
    /// OpenSSL decrypted but holds back, so whoever polls the socket next sees all there is to wait for.
    @discardableResult
    func receive() throws(RedisError) -> Int {
        var total = 0
        while true {
            let count = try receiveSome(into: &readBuffer)
            if count > 0 {
                decoder.append(readBuffer[..<count])
            }
            total += count
            guard count > 0, tlsSession?.hasBufferedInput == true else { return total }
        }
    }
}

/// Spelled out so the compiler rejects sharing a connection across concurrency domains.
@available(*, unavailable)
extension RedisConnection: Sendable {}
