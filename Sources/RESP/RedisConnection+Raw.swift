/// Raw access for the replication protocol. After SYNC a server answers with a bulk header and then bytes that are
/// not RESP (an RDB without a trailing CRLF, or a stream that ends with an EOF mark), preceded by newlines sent as
/// keep-alives: they are read as they come, past the decoder, by whoever speaks that protocol. The connection keeps
/// its socket, TLS and authentication, so a fetch works wherever commands do. A connection used this way is not
/// fit for commands any more: close it afterwards.
extension RedisConnection {
    /// Writes one command and returns without reading a reply, within `readTimeout`. A failure closes the connection.
    public func sendCommand(_ args: [String]) throws(RedisError) {
        guard fd >= 0 else { throw .connectionClosed(endpoint: endpoint.description) }
        do throws(RedisError) {
            try send(RESPEncoder.command(args), until: Self.monotonicSeconds() + readTimeout)
        } catch {
            close()
            throw error
        }
    }

    /// Reads up to `buffer.count` bytes into the front of `buffer`: first any the connection received but did not
    /// parse as replies, then what the socket has, waiting at most `timeout` seconds for some. 0 means nothing came
    /// in that time, and the connection stays open, so a caller can check for cancellation and wait again. The
    /// server closing, a transport failure or a TLS failure throws and closes the connection.
    public func readRaw(into buffer: inout [UInt8], timeout: Double) throws(RedisError) -> Int {
        guard fd >= 0 else { throw .connectionClosed(endpoint: endpoint.description) }
        guard !buffer.isEmpty else { return 0 }
        if let count = takeUnparsed(into: &buffer) { return count }
        let deadline = Self.monotonicSeconds() + max(0, timeout)
        do throws(RedisError) {
            while true {
                let count = try receiveSome(into: &buffer)
                if count > 0 { return count }
                _ = try wait(for: Self.readable, until: deadline, operation: "read")
            }
        } catch {
            if case .timeout = error { return 0 }
            close()
            throw error
        }
    }

    /// Moves bytes the decoder holds past its last complete reply into `buffer`; nil when it holds none. What does
    /// not fit stays buffered for the next call.
    private func takeUnparsed(into buffer: inout [UInt8]) -> Int? {
        guard decoder.cursor < decoder.buffer.count else { return nil }
        let pending = decoder.buffer[decoder.cursor...]
        let count = min(pending.count, buffer.count)
        buffer.replaceSubrange(0..<count, with: pending.prefix(count))
        let rest = pending.dropFirst(count)
        decoder = RESPDecoder(maxDepth: decoder.maxDepth, maxBulkLength: decoder.maxBulkLength)
        if !rest.isEmpty { decoder.append(rest) }
        return count
    }
}
