/// TLS as a transport under `sendSome`/`receiveSome`/`wait`: the request/reply logic above does not know it is there.
extension RedisConnection {
    /// The handshake on the connected socket `fd`, polled until `deadline` like the connect before it. The context comes
    /// from `TLSContext.shared`, so certificates are loaded once per configuration, not per connection.
    static func startTLS(
        fd: Int32, endpoint: RedisEndpoint, configuration: TLSConfiguration, deadline: Double
    ) throws(RedisError) -> TLSSession {
        let context: TLSContext
        do throws(TLSConfigurationError) {
            context = try TLSContext.shared(for: configuration)
        } catch {
            throw .tlsFailed(endpoint: endpoint.description, reason: error.message)
        }
        let session = try TLSSession(fd: fd, context: context, endpoint: endpoint)
        while let events = try session.handshakeStep() {
            _ = try wait(fd: fd, for: events, until: deadline, endpoint: endpoint, operation: "TLS handshake")
        }
        return session
    }

    /// The poll events that let this connection go on, given what its caller wants: as asked for plain TCP; over TLS
    /// adjusted for a read or write that waits on the other direction.
    func pollEvents(_ events: Int16) -> Int16 {
        tlsSession?.pollEvents(events) ?? events
    }
}
