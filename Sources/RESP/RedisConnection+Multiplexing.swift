import Glibc

extension RedisConnection {
    /// Sends each connection its pipeline and reads every reply, all connections at once on the calling thread
    /// with one poll() over their sockets: reading many nodes costs about one round trip and no thread per node.
    ///
    /// Per connection, in input order: one result per command (error replies as failures), or the transport
    /// failure, timeout or protocol error that closed that connection. Each connection keeps its own
    /// `readTimeout`, counted from the call. A connection appears at most once: its replies share one buffer.
    public static func pipelines(_ batches: [(connection: RedisConnection, commands: [[[UInt8]]])])
        -> [Result<[Result<RESPValue, RedisError>], RedisError>] {
        let start = monotonicSeconds()
        var exchanges = batches.map { batch in
            PendingExchange(request: request(batch.commands), expected: batch.commands.count,
                            deadline: start + batch.connection.readTimeout)
        }
        var outcomes: [Result<[Result<RESPValue, RedisError>], RedisError>?] = Array(repeating: nil, count: batches.count)

        func advance(_ index: Int, events: Int16) {
            let connection = batches[index].connection
            do throws(RedisError) {
                try exchanges[index].advance(connection, events: events)
                if exchanges[index].replies.count == exchanges[index].expected {
                    outcomes[index] = .success(exchanges[index].replies.map(result))
                }
            } catch {
                connection.close()
                outcomes[index] = .failure(error)
            }
        }

        for index in batches.indices {
            if exchanges[index].expected == 0 {
                outcomes[index] = .success([])
            } else if batches[index].connection.isClosed {
                outcomes[index] = .failure(.connectionClosed(endpoint: batches[index].connection.endpoint.description))
            } else {
                // Most requests fit the socket buffer: write them all before the first poll.
                advance(index, events: writable)
            }
        }

        while true {
            let now = monotonicSeconds()
            var active: [Int] = []
            for index in batches.indices where outcomes[index] == nil {
                if exchanges[index].deadline <= now {
                    batches[index].connection.close()
                    outcomes[index] = .failure(.timeout(endpoint: batches[index].connection.endpoint.description, operation: "read"))
                } else {
                    active.append(index)
                }
            }
            guard let nearest = active.map({ exchanges[$0].deadline }).min() else { break }
            var descriptors = active.map { index in
                pollfd(fd: batches[index].connection.fd,
                       events: batches[index].connection.pollEvents(readable | (exchanges[index].isSending ? writable : 0)),
                       revents: 0)
            }
            let milliseconds = Int32(min(((nearest - now) * 1000).rounded(.up), Double(Int32.max)))
            let ready = poll(&descriptors, nfds_t(descriptors.count), milliseconds)
            if ready < 0 {
                guard errno == EINTR else {
                    let reason = "poll: \(errnoText())"
                    for index in active {
                        batches[index].connection.close()
                        outcomes[index] = .failure(.io(endpoint: batches[index].connection.endpoint.description, reason: reason))
                    }
                    break
                }
                continue
            }
            for (position, index) in active.enumerated() where descriptors[position].revents != 0 {
                advance(index, events: descriptors[position].revents)
            }
        }
        return outcomes.map { $0! }
    }
}

/// One connection's share of `pipelines`: how much of the request is written and which replies are in.
private struct PendingExchange {
    let request: [UInt8]
    let expected: Int
    let deadline: Double
    var sent = 0
    var replies: [RESPValue] = []

    var isSending: Bool { sent < request.count }

    /// Writes what the socket takes and decodes what it has, without blocking. Both are tried whatever `events` say:
    /// over TLS a write may wait on a readable socket and a read on a writable one, and a try that cannot go on
    /// costs one non-blocking call.
    mutating func advance(_ connection: RedisConnection, events: Int16) throws(RedisError) {
        guard events & Int16(POLLNVAL) == 0 else {
            throw .io(endpoint: connection.endpoint.description, reason: "poll: invalid descriptor")
        }
        while isSending {
            let count = try connection.sendSome(request, from: sent)
            if count == 0 { break }
            sent += count
        }
        try connection.receive()
        while replies.count < expected, let reply = try connection.bufferedReply() {
            replies.append(reply)
        }
    }
}
