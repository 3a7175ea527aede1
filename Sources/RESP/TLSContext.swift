import COpenSSL
import Glibc
import Synchronization

/// An OpenSSL client context (`SSL_CTX`) built from one `TLSConfiguration`: trust store, client certificate,
/// TLS 1.2 as the floor, peer verification on. Loading certificates costs far more than a handshake, so contexts are
/// made once per configuration (`shared(for:)`) and every connection of that configuration makes its `SSL` from it.
///
/// Sendable: the context is never changed after `init`, and OpenSSL allows `SSL_new` from many threads on one context.
public final class TLSContext: @unchecked Sendable {
    public let configuration: TLSConfiguration
    let context: OpaquePointer

    /// Reads the configured files now, so a missing file, a wrong format or a key that does not match its certificate
    /// is reported here, naming the file, rather than as a failed handshake later.
    public init(_ configuration: TLSConfiguration) throws(TLSConfigurationError) {
        guard let context = SSL_CTX_new(TLS_client_method()) else {
            throw TLSConfigurationError("cannot create a TLS context: \(TLSContext.openSSLErrors())")
        }
        self.configuration = configuration
        self.context = context
        try configure()
    }

    deinit {
        SSL_CTX_free(context)
    }

    private func configure() throws(TLSConfigurationError) {
        _ = rcm_SSL_CTX_set_min_proto_version(context, TLS1_2_VERSION)
        // Partial writes let a large pipeline go out record by record; a moving buffer lets a retried write come from
        // a Swift array whose address is not guaranteed to stay put between calls.
        _ = rcm_SSL_CTX_set_mode(context, Int(SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER))
        // A server that drops a connection without close_notify (timeout, CLIENT KILL, restart) reads as a plain
        // close, as it does without TLS; RESP replies are self-delimiting, so no truncation goes unnoticed.
        _ = SSL_CTX_set_options(context, rcm_SSL_OP_IGNORE_UNEXPECTED_EOF())
        SSL_CTX_set_verify(context, SSL_VERIFY_PEER, nil)
        rcm_SSL_CTX_refuse_passphrases(context)

        ERR_clear_error()
        if let caFile = configuration.caFile {
            try Self.checkReadable(caFile, field: "ca_file")
            guard SSL_CTX_load_verify_locations(context, caFile, nil) == 1 else {
                throw TLSConfigurationError("ca_file '\(caFile)' holds no usable PEM certificate: \(Self.openSSLErrors())")
            }
        } else if SSL_CTX_set_default_verify_paths(context) != 1 {
            throw TLSConfigurationError("cannot load the system's default CA certificates: \(Self.openSSLErrors())")
        }

        switch (configuration.certificateFile, configuration.keyFile) {
        case (nil, nil):
            break
        case (let certificateFile?, let keyFile?):
            try Self.checkReadable(certificateFile, field: "cert_file")
            try Self.checkReadable(keyFile, field: "key_file")
            guard SSL_CTX_use_certificate_chain_file(context, certificateFile) == 1 else {
                throw TLSConfigurationError("cert_file '\(certificateFile)' holds no usable PEM certificate: \(Self.openSSLErrors())")
            }
            let mismatch = TLSConfigurationError("key_file '\(keyFile)' does not match cert_file '\(certificateFile)'")
            guard SSL_CTX_use_PrivateKey_file(context, keyFile, SSL_FILETYPE_PEM) == 1 else {
                let reasons = Self.openSSLErrors()
                if reasons.contains("key values mismatch") { throw mismatch }
                throw TLSConfigurationError("key_file '\(keyFile)' holds no usable unencrypted PEM private key: \(reasons)")
            }
            guard SSL_CTX_check_private_key(context) == 1 else {
                ERR_clear_error()
                throw mismatch
            }
        default:
            throw TLSConfigurationError("cert_file and key_file must be given together")
        }
    }

    /// A clear "cannot read" before OpenSSL gets the path: its own message for a missing file is a generic system error.
    /// Only a regular file is opened: opening a FIFO would wait for a writer, holding the request that named it.
    private static func checkReadable(_ path: String, field: String) throws(TLSConfigurationError) {
        var status = stat()
        guard stat(path, &status) == 0 else {
            throw TLSConfigurationError("cannot read \(field) '\(path)': \(String(cString: strerror(errno)))")
        }
        guard status.st_mode & S_IFMT == S_IFREG else {
            let kind = status.st_mode & S_IFMT == S_IFDIR ? "a directory" : "not a regular file (a FIFO, socket or device)"
            throw TLSConfigurationError("cannot read \(field) '\(path)': it is \(kind)")
        }
        let fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard fd >= 0 else {
            throw TLSConfigurationError("cannot read \(field) '\(path)': \(String(cString: strerror(errno)))")
        }
        _ = close(fd)
    }

    /// The reasons in this thread's OpenSSL error queue, oldest (the root cause) first; the queue is left empty.
    static func openSSLErrors() -> String {
        var reasons: [String] = []
        while true {
            let code = ERR_get_error()
            if code == 0 { break }
            var buffer = [CChar](repeating: 0, count: 256)
            let text: String
            if let reason = ERR_reason_error_string(code) {
                text = String(cString: reason)
            } else {
                ERR_error_string_n(code, &buffer, buffer.count)
                text = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            }
            if !reasons.contains(text) { reasons.append(text) }
        }
        return reasons.isEmpty ? "unknown OpenSSL error" : reasons.joined(separator: "; ")
    }
}

extension TLSContext {
    /// What a context was built from: the configuration and the identity of each file then, so a certificate replaced
    /// on disk (rotation) is picked up by the next connection instead of living as long as the process.
    private struct Entry {
        var context: TLSContext
        var files: [FileStamp]
    }

    private struct FileStamp: Equatable {
        var device: UInt64
        var inode: UInt64
        var size: Int64
        var modifiedSeconds: Int
        var modifiedNanoseconds: Int

        init?(_ path: String) {
            var status = stat()
            guard stat(path, &status) == 0 else { return nil }
            device = UInt64(status.st_dev)
            inode = UInt64(status.st_ino)
            size = Int64(status.st_size)
            modifiedSeconds = Int(status.st_mtim.tv_sec)
            modifiedNanoseconds = Int(status.st_mtim.tv_nsec)
        }
    }

    private static let cache = Mutex<[TLSConfiguration: Entry]>([:])

    /// The context for `configuration`, built on first use and rebuilt when one of its files changed.
    public static func shared(for configuration: TLSConfiguration) throws(TLSConfigurationError) -> TLSContext {
        let paths = [configuration.caFile, configuration.certificateFile, configuration.keyFile].compactMap { $0 }
        let files = paths.compactMap(FileStamp.init)
        if files.count == paths.count, let entry = cache.withLock({ $0[configuration] }), entry.files == files {
            return entry.context
        }
        // Built outside the lock: loading files must not hold up connections of other configurations.
        let context = try TLSContext(configuration)
        cache.withLock { $0[configuration] = Entry(context: context, files: files) }
        return context
    }
}
