import Glibc

/// Why the server could not start listening.
public enum HTTPServerError: Error, Sendable, CustomStringConvertible {
    /// The host is not an IPv4 or IPv6 literal.
    case invalidAddress(String)
    /// A socket call failed; `address` is the listen address it concerned.
    case systemCall(call: String, address: String, errno: Int32)
    /// `start()` was called on a server that was already started or shut down.
    case alreadyStarted

    public var description: String {
        switch self {
        case .invalidAddress(let host):
            "invalid listen address \"\(host)\": expected an IPv4 or IPv6 literal"
        case .systemCall(let call, let address, let code):
            "\(call)(\(address)) failed: \(String(cString: strerror(code))) (errno \(code))"
        case .alreadyStarted:
            "the server was already started or shut down"
        }
    }
}
