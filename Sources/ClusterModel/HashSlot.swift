/// Key → hash slot mapping exactly as Redis Cluster computes it.
public enum HashSlot {
    public static let count = 16384

    /// CRC16-XMODEM of the key (or of its `{hashtag}`, when the braces enclose at least one byte) modulo 16384.
    public static func slot(for key: some Sequence<UInt8>) -> Int {
        let bytes = Array(key)
        return Int(crc16(hashed(bytes)) & 0x3FFF)
    }

    /// Convenience for string keys; Redis hashes their UTF-8 bytes.
    public static func slot(for key: String) -> Int {
        slot(for: key.utf8)
    }

    /// The part of the key that is hashed: the content of the first `{...}` unless it is empty.
    private static func hashed(_ key: [UInt8]) -> ArraySlice<UInt8> {
        guard let open = key.firstIndex(of: UInt8(ascii: "{")),
              let close = key[(open + 1)...].firstIndex(of: UInt8(ascii: "}")),
              close > open + 1
        else { return key[...] }
        return key[(open + 1)..<close]
    }

    private static func crc16(_ bytes: ArraySlice<UInt8>) -> UInt16 {
        var crc: UInt16 = 0
        for byte in bytes {
            crc = (crc << 8) ^ table[Int(UInt8(truncatingIfNeeded: crc >> 8) ^ byte)]
        }
        return crc
    }

    /// Polynomial 0x1021, the XMODEM variant Redis uses.
    private static let table: [UInt16] = (0..<256).map { index in
        var value = UInt16(index) << 8
        for _ in 0..<8 {
            value = value & 0x8000 != 0 ? (value << 1) ^ 0x1021 : value << 1
        }
        return value
    }
}
