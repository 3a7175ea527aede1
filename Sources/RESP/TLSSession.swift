import COpenSSL
import Glibc

/// One connection's TLS over its non-blocking socket: the `SSL` object and what its last read and write were waiting
/// for. Never blocks: every call does what the socket allows now and says what to poll for otherwise, so the
/// connection's deadlines hold for TLS exactly as for plain TCP.
///
/// Not Sendable: owned by its `RedisConnection`, used by one thread at a time.
final class TLSSession {
    private let ssl: OpaquePointer
    private let endpoint: String
    /// The last `SSL_write` needs the socket readable before it can go on (a renegotiation or key update in flight).
    private(set) var writeWantsRead = false
    /// The last `SSL_read` needs the socket writable before it can go on.
    private(set) var readWantsWrite = false
    /// Set once the server has sent application data. Until then a TLS failure belongs to the handshake: in TLS 1.3 the
    /// server judges our certificate after our side of the handshake has finished, and says so on our first read.
    private var peerAccepted = false
    /// A fatal TLS error happened: OpenSSL forbids sending close_notify after one.
    private var broken = false

    /// Every socket BIO writes with MSG_NOSIGNAL (see shim.h); made once for the process.
    nonisolated(unsafe) private static let socketMethod = rcm_BIO_nosignal_socket_method()

    /// Prepares the client side on the connected socket `fd` (which stays owned by the caller): SNI and the name or
    /// address the certificate must carry are `serverName` when configured, else the endpoint's host.
    init(fd: Int32, context: TLSContext, endpoint: RedisEndpoint) throws(RedisError) {
        self.endpoint = endpoint.description
        ERR_clear_error()
        guard let ssl = SSL_new(context.context) else {
            throw .tlsFailed(endpoint: endpoint.description, reason: "SSL_new: \(TLSContext.openSSLErrors())")
        }
        self.ssl = ssl
        guard let method = Self.socketMethod, let bio = rcm_BIO_new_nosignal_socket(method, fd) else {
            throw .tlsFailed(endpoint: endpoint.description, reason: "cannot create a socket BIO: \(TLSContext.openSSLErrors())")
        }
        SSL_set_bio(ssl, bio, bio)
        SSL_set_connect_state(ssl)

        let name = context.configuration.serverName ?? endpoint.host
        let named: Bool
        if Self.isIPAddress(name) {
            // SNI carries host names only; an address is checked against the certificate's IP SANs.
            named = X509_VERIFY_PARAM_set1_ip_asc(SSL_get0_param(ssl), name) == 1
        } else {
            SSL_set_hostflags(ssl, UInt32(X509_CHECK_FLAG_NO_PARTIAL_WILDCARDS))
            named = SSL_set1_host(ssl, name) == 1 && rcm_SSL_set_tlsext_host_name(ssl, name) == 1
        }
        guard named else {
            throw .tlsFailed(endpoint: endpoint.description, reason: "cannot check the certificate for '\(name)': \(TLSContext.openSSLErrors())")
        }
    }

    deinit {
        SSL_free(ssl)
    }

    /// Decrypted bytes OpenSSL holds that poll() cannot see: read them before waiting on the socket.
    var hasBufferedInput: Bool { SSL_pending(ssl) > 0 }

    /// One step of the handshake: nil once it is done, else the poll events it waits for.
    func handshakeStep() throws(RedisError) -> Int16? {
        ERR_clear_error()
        let result = SSL_connect(ssl)
        if result == 1 { return nil }
        let code = SSL_get_error(ssl, result)
        let savedErrno = errno
        switch code {
        case SSL_ERROR_WANT_READ: return RedisConnection.readable
        case SSL_ERROR_WANT_WRITE: return RedisConnection.writable
        default:
            broken = true
            throw .tlsFailed(endpoint: endpoint, reason: failureReason(code, errno: savedErrno))
        }
    }

    /// Encrypts and sends what the socket takes now; 0 means not now (see `writeWantsRead` for which way to poll).
    /// A write that returned 0 must be retried with the same remaining bytes, as OpenSSL requires; callers do, since
    /// they retry from the same offset of the same request.
    func write(_ bytes: [UInt8], from offset: Int) throws(RedisError) -> Int {
        let length = Int32(clamping: bytes.count - offset)
        ERR_clear_error()
        let written = bytes.withUnsafeBytes { raw in SSL_write(ssl, raw.baseAddress! + offset, length) }
        let savedErrno = errno
        if written > 0 {
            writeWantsRead = false
            return Int(written)
        }
        let code = SSL_get_error(ssl, written)
        switch code {
        case SSL_ERROR_WANT_WRITE:
            writeWantsRead = false
            return 0
        case SSL_ERROR_WANT_READ:
            writeWantsRead = true
            return 0
        default:
            let error = failure(code, errno: savedErrno, operation: "send")
            if case .connectionClosed = error, !peerAccepted, let refusal = serverRefusal() { throw refusal }
            throw error
        }
    }

    /// Why a server closed the connection before its first reply, if it said so with a TLS alert (the alert may
    /// still be in the socket's buffer when the write that found the connection closed fails).
    private func serverRefusal() -> RedisError? {
        var scratch = [UInt8](repeating: 0, count: 256)
        ERR_clear_error()
        let count = SSL_read(ssl, &scratch, Int32(scratch.count))
        guard count <= 0, SSL_get_error(ssl, count) == SSL_ERROR_SSL else {
            ERR_clear_error()
            return nil
        }
        return .tlsFailed(endpoint: endpoint, reason: failureReason(SSL_ERROR_SSL, errno: 0))
    }

    /// Reads and decrypts into `buffer` until it is full or the socket has nothing more; 0 means nothing yet.
    /// A close by the server throws, as a plain socket's end of stream does.
    func read(into buffer: inout [UInt8]) throws(RedisError) -> Int {
        var total = 0
        while total < buffer.count {
            ERR_clear_error()
            let count = buffer.withUnsafeMutableBytes { raw in
                SSL_read(ssl, raw.baseAddress! + total, Int32(clamping: raw.count - total))
            }
            let savedErrno = errno
            if count > 0 {
                total += Int(count)
                readWantsWrite = false
                peerAccepted = true
                continue
            }
            let code = SSL_get_error(ssl, count)
            switch code {
            case SSL_ERROR_WANT_READ:
                readWantsWrite = false
                return total
            case SSL_ERROR_WANT_WRITE:
                readWantsWrite = true
                return total
            default:
                // What arrived before the close is delivered; the next call reports the close.
                if total > 0 && code == SSL_ERROR_ZERO_RETURN { return total }
                throw failure(code, errno: savedErrno, operation: "recv")
            }
        }
        return total
    }

    /// The poll events that let the last blocked read or write go on, given what the caller wants to do.
    func pollEvents(_ events: Int16) -> Int16 {
        var adjusted = events
        if writeWantsRead && events & RedisConnection.writable != 0 {
            adjusted = (adjusted & ~RedisConnection.writable) | RedisConnection.readable
        }
        if readWantsWrite && events & RedisConnection.readable != 0 {
            adjusted |= RedisConnection.writable
        }
        return adjusted
    }

    /// Sends close_notify if the socket takes it now; never waits for the server's.
    func shutdown() {
        guard !broken, SSL_is_init_finished(ssl) == 1 else { return }
        ERR_clear_error()
        _ = SSL_shutdown(ssl)
        ERR_clear_error()
    }

    /// The error for a failed read or write: the server closing maps as on plain TCP, a TLS failure before the
    /// server's first reply is the handshake's (e.g. a client certificate it refused), any later one an I/O error.
    private func failure(_ code: Int32, errno savedErrno: Int32, operation: String) -> RedisError {
        switch code {
        case SSL_ERROR_ZERO_RETURN:
            return .connectionClosed(endpoint: endpoint)
        case SSL_ERROR_SYSCALL where ERR_peek_error() == 0:
            broken = true
            switch savedErrno {
            case 0, EPIPE, ECONNRESET: return .connectionClosed(endpoint: endpoint)
            default: return .io(endpoint: endpoint, reason: "\(operation): \(String(cString: strerror(savedErrno)))")
            }
        default:
            broken = true
            if !peerAccepted {
                return .tlsFailed(endpoint: endpoint, reason: failureReason(code, errno: savedErrno))
            }
            return .io(endpoint: endpoint, reason: "TLS: \(TLSContext.openSSLErrors())")
        }
    }

    /// Why the handshake (or the server's verdict on it) failed, in OpenSSL's words: a certificate that did not verify
    /// is named by its verify error ("certificate verify failed: self-signed certificate").
    private func failureReason(_ code: Int32, errno savedErrno: Int32) -> String {
        let verify = SSL_get_verify_result(ssl)
        if verify != X509_V_OK {
            ERR_clear_error()
            return "certificate verify failed: \(String(cString: X509_verify_cert_error_string(verify)))"
        }
        if code == SSL_ERROR_SYSCALL && ERR_peek_error() == 0 {
            return savedErrno == 0
                ? "the server closed the connection during the TLS handshake (is this a TLS port?)"
                : String(cString: strerror(savedErrno))
        }
        if code == SSL_ERROR_ZERO_RETURN {
            return "the server closed the connection during the TLS handshake"
        }
        let reasons = TLSContext.openSSLErrors()
        if reasons.contains("wrong version number") || reasons.contains("packet length too long") {
            return "\(reasons) (is this a TLS port?)"
        }
        return reasons
    }

    private static func isIPAddress(_ host: String) -> Bool {
        var address = in6_addr()
        return inet_pton(AF_INET, host, &address) == 1 || inet_pton(AF_INET6, host, &address) == 1
    }
}

@available(*, unavailable)
extension TLSSession: Sendable {}
