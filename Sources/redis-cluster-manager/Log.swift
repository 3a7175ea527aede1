import Foundation

enum Log {
    /// One line to standard error, timestamped. Callers never pass passwords or request bodies.
    static let line: @Sendable (String) -> Void = { message in
        let stamp = Date().formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true))
        FileHandle.standardError.write(Data("\(stamp) \(message)\n".utf8))
    }
}
