import Foundation

/// RFC 3339 UTC timestamps with milliseconds: the one format stored and returned, so that text order is time order.
public enum Timestamp {
    public static func now() -> String { format(Date()) }

    public static func format(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true, timeZone: TimeZone(identifier: "UTC")!))
    }

    /// Parses any RFC 3339 date-time (offsets and fractions allowed) into the canonical stored form.
    public static func normalise(_ text: String) -> String? {
        guard let date = parse(text) else { return nil }
        return format(date)
    }

    public static func parse(_ text: String) -> Date? {
        if let date = try? Date(text, strategy: Date.ISO8601FormatStyle(includingFractionalSeconds: true)) { return date }
        return try? Date(text, strategy: Date.ISO8601FormatStyle())
    }
}
