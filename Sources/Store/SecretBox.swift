import COpenSSL
import Foundation

/// Seals cluster passwords for storage: AES-256-GCM under a 32-byte key kept outside the database, a random
/// 96-bit nonce per seal, and the cluster id as associated data, so a sealed password copied onto another
/// cluster's row does not open. A database file on its own reveals no password.
///
/// Sealed text is `v1:` followed by base64 of nonce ‖ ciphertext ‖ tag.
public struct SecretBox: Sendable {
    static let keyLength = 32
    static let nonceLength = 12
    static let tagLength = 16
    static let prefix = "v1:"

    private let key: [UInt8]

    /// `key` must be 32 bytes.
    public init(key: [UInt8]) throws {
        guard key.count == Self.keyLength else {
            throw StoreError.secretKey("the secret key must be \(Self.keyLength) bytes, not \(key.count)")
        }
        self.key = key
    }

    /// A key that lives only as long as the process: for in-memory stores and tests.
    public static func ephemeral() -> SecretBox {
        // swiftlint:disable:next force_try
        try! SecretBox(key: randomBytes(keyLength))
    }

    public func seal(_ plaintext: String, context: String) throws -> String {
        let nonce = Self.randomBytes(Self.nonceLength)
        var sealed = nonce
        sealed += try crypt(encrypt: true, input: Array(plaintext.utf8), nonce: nonce, context: context, tag: nil)
        return Self.prefix + Data(sealed).base64EncodedString()
    }

    /// The plaintext, or `StoreError.secretKey` when the text was sealed under another key or for another context.
    public func open(_ sealed: String, context: String) throws -> String {
        guard sealed.hasPrefix(Self.prefix), let data = Data(base64Encoded: String(sealed.dropFirst(Self.prefix.count))),
              data.count >= Self.nonceLength + Self.tagLength else {
            throw StoreError.corruptRecord("sealed secret of \(context)")
        }
        let bytes = [UInt8](data)
        let nonce = Array(bytes[..<Self.nonceLength])
        let tag = Array(bytes[(bytes.count - Self.tagLength)...])
        let body = Array(bytes[Self.nonceLength..<(bytes.count - Self.tagLength)])
        let plain = try crypt(encrypt: false, input: body, nonce: nonce, context: context, tag: tag)
        return String(decoding: plain, as: UTF8.self)
    }

    /// Encrypts (answering ciphertext ‖ tag) or decrypts and authenticates (answering the plaintext).
    private func crypt(encrypt: Bool, input: [UInt8], nonce: [UInt8], context: String, tag: [UInt8]?) throws -> [UInt8] {
        guard let ctx = EVP_CIPHER_CTX_new() else { throw StoreError.secretKey("cannot allocate a cipher context") }
        defer { EVP_CIPHER_CTX_free(ctx) }
        let cipher = EVP_aes_256_gcm()
        let aad = Array(context.utf8)
        var out = [UInt8](repeating: 0, count: input.count + Self.tagLength)
        var length: Int32 = 0
        var total = 0
        let ok: Bool = key.withUnsafeBufferPointer { key in
            nonce.withUnsafeBufferPointer { nonce in
                guard (encrypt ? EVP_EncryptInit_ex(ctx, cipher, nil, key.baseAddress, nonce.baseAddress)
                               : EVP_DecryptInit_ex(ctx, cipher, nil, key.baseAddress, nonce.baseAddress)) == 1 else { return false }
                if !aad.isEmpty {
                    let step = encrypt ? EVP_EncryptUpdate(ctx, nil, &length, aad, Int32(aad.count))
                                       : EVP_DecryptUpdate(ctx, nil, &length, aad, Int32(aad.count))
                    guard step == 1 else { return false }
                }
                if !input.isEmpty {
                    let step = out.withUnsafeMutableBufferPointer { out in
                        encrypt ? EVP_EncryptUpdate(ctx, out.baseAddress, &length, input, Int32(input.count))
                                : EVP_DecryptUpdate(ctx, out.baseAddress, &length, input, Int32(input.count))
                    }
                    guard step == 1 else { return false }
                    total = Int(length)
                }
                if var tag, !encrypt {
                    guard EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, Int32(Self.tagLength), &tag) == 1 else { return false }
                }
                let final = out.withUnsafeMutableBufferPointer { out in
                    encrypt ? EVP_EncryptFinal_ex(ctx, out.baseAddress! + total, &length)
                            : EVP_DecryptFinal_ex(ctx, out.baseAddress! + total, &length)
                }
                guard final == 1 else { return false }
                total += Int(length)
                if encrypt {
                    let got = out.withUnsafeMutableBufferPointer { out in
                        EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, Int32(Self.tagLength), out.baseAddress! + total)
                    }
                    guard got == 1 else { return false }
                    total += Self.tagLength
                }
                return true
            }
        }
        guard ok else {
            throw encrypt ? StoreError.secretKey("encryption failed")
                          : StoreError.secretKey("a stored password does not open with this secret key (was the key file replaced?)")
        }
        return Array(out[..<total])
    }

    /// HMAC-SHA256 of `text` under the key, hex: a digest that cannot be checked against guesses without the key
    /// (what is stored of an Idempotency-Key's request, whose body may carry a password).
    public func mac(_ text: String) -> String {
        var out = [UInt8](repeating: 0, count: Int(EVP_MAX_MD_SIZE))
        var length: UInt32 = 0
        let bytes = Array(text.utf8)
        _ = key.withUnsafeBufferPointer { key in
            HMAC(EVP_sha256(), key.baseAddress, Int32(key.count), bytes, bytes.count, &out, &length)
        }
        return out.prefix(Int(length)).map { String(format: "%02x", $0) }.joined()
    }

    static func randomBytes(_ count: Int) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: count)
        precondition(RAND_bytes(&bytes, Int32(count)) == 1, "the system's random source failed")
        return bytes
    }
}

extension SecretBox: CustomStringConvertible, CustomReflectable {
    public var description: String { "SecretBox(***)" }
    public var customMirror: Mirror { Mirror(self, children: []) }
}
