import Foundation
import Glibc

/// The file that holds the secret key: one line of base64 for 32 random bytes, mode 0600, created at first start.
/// It lives outside the database so that a copy of the database alone opens no password; back it up separately.
public enum SecretKeyFile {
    /// Reads the key at `path`, or creates one there (0600, never overwriting) when the file does not exist.
    /// A key file others can read is tightened to 0600; `log` says so.
    public static func loadOrCreate(path: String, log: (String) -> Void = { _ in }) throws -> SecretBox {
        if !FileManager.default.fileExists(atPath: path) {
            try create(path: path)
            log("created secret key file \(path) (mode 0600); back it up apart from the database")
        }
        var info = stat()
        guard stat(path, &info) == 0 else { throw StoreError.secretKey("cannot read \(path): \(String(cString: strerror(errno)))") }
        if info.st_mode & 0o077 != 0 {
            guard chmod(path, 0o600) == 0 else {
                throw StoreError.secretKey("\(path) is readable by others and cannot be made 0600: \(String(cString: strerror(errno)))")
            }
            log("secret key file \(path) was readable by others; its mode is now 0600")
        }
        guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
            throw StoreError.secretKey("cannot read \(path)")
        }
        guard let key = Data(base64Encoded: text.trimmingCharacters(in: .whitespacesAndNewlines)),
              key.count == SecretBox.keyLength else {
            throw StoreError.secretKey("\(path) must hold one line of base64 for \(SecretBox.keyLength) bytes (e.g. `openssl rand -base64 32`)")
        }
        return try SecretBox(key: [UInt8](key))
    }

    private static func create(path: String) throws {
        let directory = URL(fileURLWithPath: path).deletingLastPathComponent().path
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true,
                                                attributes: [.posixPermissions: 0o700])
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw StoreError.secretKey("cannot create \(path): \(String(cString: strerror(errno)))") }
        defer { close(fd) }
        let line = Array((Data(SecretBox.randomBytes(SecretBox.keyLength)).base64EncodedString() + "\n").utf8)
        let written = line.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
        guard written == line.count, fsync(fd) == 0 else {
            unlink(path)
            throw StoreError.secretKey("cannot write \(path): \(String(cString: strerror(errno)))")
        }
    }
}
