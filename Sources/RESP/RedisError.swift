/// Everything a Redis call can fail with: transport failures, and error replies
/// classified by `fromErrorReply(_:)`.
public enum RedisError: Error, Sendable, Equatable {
    /// Refused, unreachable, or the host did not resolve.
    case connectFailed(endpoint: String, reason: String)
    /// A connect, read or write deadline passed; the connection is closed.
    case timeout(endpoint: String, operation: String)
    case connectionClosed(endpoint: String)
    /// The TLS handshake failed or the server refused it (certificate not verified, name mismatch, client certificate
    /// missing or refused, configuration files unusable); nothing was executed. `reason` is OpenSSL's, never key material.
    case tlsFailed(endpoint: String, reason: String)
    case io(endpoint: String, reason: String)
    /// The server sent invalid RESP; the connection is closed because the stream is out of sync.
    case protocolError(endpoint: String, reason: String)
    /// `MOVED <slot> <endpoint>`; an IPv6 endpoint is given bracketed so `RedisEndpoint` parses it.
    case moved(slot: Int, endpoint: String)
    /// `ASK <slot> <endpoint>`, endpoint as for `moved`.
    case ask(slot: Int, endpoint: String)
    /// The following carry the full error text.
    case clusterDown(String)
    case tryAgain(String)
    case busyKey(String)
    case noAuth(String)
    case wrongPass(String)
    /// Any other error reply: `code` is its first word ("ERR", "NOPERM", "LOADING", ...).
    case server(code: String, message: String)
}

extension RedisError: CustomStringConvertible {
    public var description: String {
        switch self {
        case .connectFailed(let endpoint, let reason): "cannot connect to \(endpoint): \(reason)"
        case .timeout(let endpoint, let operation): "\(operation) timed out on \(endpoint)"
        case .connectionClosed(let endpoint): "connection to \(endpoint) closed"
        case .tlsFailed(let endpoint, let reason): "TLS with \(endpoint) failed: \(reason)"
        case .io(let endpoint, let reason): "I/O error on \(endpoint): \(reason)"
        case .protocolError(let endpoint, let reason): "protocol error from \(endpoint): \(reason)"
        case .moved(let slot, let endpoint): "MOVED \(slot) \(endpoint)"
        case .ask(let slot, let endpoint): "ASK \(slot) \(endpoint)"
        case .clusterDown(let text), .tryAgain(let text), .busyKey(let text),
             .noAuth(let text), .wrongPass(let text): text
        case .server(_, let message): message
        }
    }
}
