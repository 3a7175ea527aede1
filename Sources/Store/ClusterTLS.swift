/// How the service speaks TLS to a registered cluster: paths of files on the service's host and the name to expect,
/// never the files' contents. Nothing here is secret (the key file's path is not the key), so it may be shown.
public struct ClusterTLS: Sendable, Equatable, Codable {
    /// PEM CA certificates to verify the nodes against; nil trusts the system's default store.
    public var caFile: String?
    /// PEM client certificate (chain), for servers with `tls-auth-clients`; given with `keyFile` or not at all.
    public var certFile: String?
    public var keyFile: String?
    /// The name every node's certificate must carry (and SNI); nil checks each node's own address.
    public var serverName: String?

    public init(caFile: String?, certFile: String?, keyFile: String?, serverName: String?) {
        self.caFile = caFile
        self.certFile = certFile
        self.keyFile = keyFile
        self.serverName = serverName
    }

    private enum CodingKeys: String, CodingKey {
        case caFile = "ca_file"
        case certFile = "cert_file"
        case keyFile = "key_file"
        case serverName = "server_name"
    }
}
