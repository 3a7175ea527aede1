/// How to speak TLS to a server: which CAs to trust, which certificate to show, which name to expect.
/// Only paths are held, never file contents, so the value can be logged, compared and used as a pool key.
/// Hashable so connections are pooled per configuration, and `TLSContext` is built once per configuration.
public struct TLSConfiguration: Sendable, Hashable {
    /// PEM file of the CA certificates the server's chain must end in; nil trusts the system's default store.
    public var caFile: String?
    /// PEM certificate (chain) shown to servers that ask for one (`tls-auth-clients`); needs `keyFile`.
    public var certificateFile: String?
    /// Unencrypted PEM private key of `certificateFile`.
    public var keyFile: String?
    /// The name the server certificate must carry, sent as SNI too. nil checks each node's own address, so node
    /// certificates must then list the IP addresses (or host names) the cluster announces.
    public var serverName: String?

    public init(caFile: String? = nil, certificateFile: String? = nil, keyFile: String? = nil, serverName: String? = nil) {
        self.caFile = caFile
        self.certificateFile = certificateFile
        self.keyFile = keyFile
        self.serverName = serverName
    }
}

extension TLSConfiguration: CustomStringConvertible {
    public var description: String {
        var parts = ["ca_file: \(caFile ?? "system default")"]
        if let certificateFile { parts.append("cert_file: \(certificateFile)") }
        if let keyFile { parts.append("key_file: \(keyFile)") }
        if let serverName { parts.append("server_name: \(serverName)") }
        return "TLS(\(parts.joined(separator: ", ")))"
    }
}

/// A TLS configuration that cannot be turned into a context: a file missing, unreadable, not PEM, or a key that does
/// not match its certificate. The message names the file and the reason, never the file's contents.
public struct TLSConfigurationError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}
