import Jobs
import RESP
import Store

/// The `tls` object of a cluster registration: `{"ca_file","cert_file","key_file","server_name"}`, all optional,
/// paths absolute on the service's host. `"tls": {}` means TLS trusting the system's default CA store, with no
/// client certificate; no `tls` (or null) means plain TCP.
enum TLSFields {
    static let allowed: Set<String> = ["ca_file", "cert_file", "key_file", "server_name"]
    static let maxPathBytes = 4096

    /// The shape of the object (400 when wrong); the files are not opened here.
    static func parse(_ fields: RequestFields) throws -> ClusterTLS? {
        guard let value = fields.raw("tls"), value != .null else { return nil }
        guard case .object(let object) = value else {
            throw ServiceError.invalid("field 'tls' must be an object with \(allowed.sorted().joined(separator: ", "))")
        }
        let tls: RequestFields
        do {
            tls = try RequestFields(object, allowed: allowed)
        } catch {
            throw ServiceError.invalid("field 'tls': \(error.message)")
        }
        let result = ClusterTLS(caFile: try path(tls, "ca_file"), certFile: try path(tls, "cert_file"),
                                keyFile: try path(tls, "key_file"), serverName: try tls.string("server_name"))
        if (result.certFile == nil) != (result.keyFile == nil) {
            throw ServiceError.invalid("fields 'tls.cert_file' and 'tls.key_file' must be given together")
        }
        if let name = result.serverName,
           name.isEmpty || name.utf8.count > 253 || name.contains(where: { $0.isWhitespace || $0 == "\0" || $0 == "/" }) {
            throw ServiceError.invalid("field 'tls.server_name' must be a host name or IP address of 1 to 253 characters")
        }
        return result
    }

    /// Loads the files as every connection will (422 `tls_config` naming the file and the reason when one is missing,
    /// unreadable, not PEM, or a key that does not match its certificate), so registration fails on them rather than
    /// on every later connection.
    static func checkFiles(_ tls: ClusterTLS?) throws {
        guard let tls else { return }
        do {
            _ = try TLSContext.shared(for: TLSConfiguration(tls))
        } catch {
            throw ServiceError.impossible(code: "tls_config", "tls: \(error.message)")
        }
    }

    private static func path(_ tls: RequestFields, _ name: String) throws -> String? {
        guard let path = try tls.string(name) else { return nil }
        guard path.hasPrefix("/"), path.utf8.count <= maxPathBytes, !path.contains("\0") else {
            throw ServiceError.invalid("field 'tls.\(name)' must be an absolute path on the service's host (at most \(maxPathBytes) bytes)")
        }
        return path
    }
}
