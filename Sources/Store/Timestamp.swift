import Foundation

/// RFC 3339 UTC timestamps with milliseconds: the one format stored and returned, so that text order is time order.
public enum Timestamp {
    public static func now() -> String { format(Date()) }

    public static func format(_ date: Date) -> String {
        date.formatted(Date.ISO8601FormatStyle(includingFractionalSeconds: true, timeZone: TimeZone(identifier: "UTC")!))
    }

    /// Parses any RFC 3339 date-time into the canonical stored form (UTC, milliseconds; a finer fraction is cut):
    /// `T` or `t`, `Z`, `z` or an offset up to ±23:59, a fraction of any length, a leap second at 23:59:60 UTC
    /// (read as the next day's first second). Years 0000-9999; an offset that carries the time past either end
    /// gives the first or last millisecond of that range. Anything else, such as a day the month does not have, is nil.
    public static func normalise(_ text: String) -> String? {
        guard let parsed = RFC3339(text) else { return nil }
        var milliseconds = parsed.utcMilliseconds
        milliseconds = min(max(milliseconds, RFC3339.first), RFC3339.last)
        let days = Int(milliseconds.floorDivided(by: 86_400_000))
        let inDay = Int(milliseconds - Int64(days) * 86_400_000)
        let (year, month, day) = RFC3339.civil(fromDays: days)
        func pad(_ value: Int, _ width: Int) -> String {
            let digits = String(value)
            return String(repeating: "0", count: max(0, width - digits.count)) + digits
        }
        return "\(pad(year, 4))-\(pad(month, 2))-\(pad(day, 2))T\(pad(inDay / 3_600_000, 2)):"
            + "\(pad(inDay / 60_000 % 60, 2)):\(pad(inDay / 1000 % 60, 2)).\(pad(inDay % 1000, 3))Z"
    }

    public static func parse(_ text: String) -> Date? {
        guard let parsed = RFC3339(text) else { return nil }
        return Date(timeIntervalSince1970: Double(parsed.utcMilliseconds) / 1000)
    }
}

/// The fields of an RFC 3339 `date-time` (§5.6), checked as JSON Schema's `format: date-time` checks them.
private struct RFC3339 {
    var utcMilliseconds: Int64

    static let first = Int64(days(year: 0, month: 1, day: 1)) * 86_400_000
    static let last = Int64(days(year: 10000, month: 1, day: 1)) * 86_400_000 - 1

    init?(_ text: String) {
        let bytes = Array(text.utf8)
        var index = 0
        func number(_ width: Int) -> Int? {
            guard index + width <= bytes.count else { return nil }
            var value = 0
            for byte in bytes[index..<(index + width)] {
                guard (0x30...0x39).contains(byte) else { return nil }
                value = value * 10 + Int(byte - 0x30)
            }
            index += width
            return value
        }
        func expect(_ characters: String) -> Bool {
            guard index < bytes.count, characters.utf8.contains(bytes[index]) else { return false }
            index += 1
            return true
        }
        guard let year = number(4), expect("-"), let month = number(2), expect("-"), let day = number(2),
              expect("Tt"), let hour = number(2), expect(":"), let minute = number(2), expect(":"), let second = number(2)
        else { return nil }
        var milliseconds = 0
        if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
            index += 1
            var digits = 0
            while index < bytes.count, (0x30...0x39).contains(bytes[index]) {
                if digits < 3 { milliseconds = milliseconds * 10 + Int(bytes[index] - 0x30) }
                digits += 1
                index += 1
            }
            guard digits > 0 else { return nil }
            if digits < 3 { for _ in digits..<3 { milliseconds *= 10 } }
        }
        var offsetMinutes = 0
        if expect("Zz") {
        } else if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") {
            let sign = bytes[index] == UInt8(ascii: "-") ? -1 : 1
            index += 1
            guard let offsetHour = number(2), expect(":"), let offsetMinute = number(2), offsetHour <= 23, offsetMinute <= 59
            else { return nil }
            offsetMinutes = sign * (offsetHour * 60 + offsetMinute)
        } else {
            return nil
        }
        guard index == bytes.count, (1...12).contains(month), day >= 1, day <= Self.daysIn(month: month, year: year),
              hour <= 23, minute <= 59, second <= 60 else { return nil }
        if second == 60 {
            // A leap second is only ever the last second of a UTC day.
            let utcMinute = ((hour * 60 + minute - offsetMinutes) % 1440 + 1440) % 1440
            guard utcMinute == 23 * 60 + 59 else { return nil }
        }
        let seconds = Int64(Self.days(year: year, month: month, day: day)) * 86400
            + Int64(hour * 3600 + minute * 60 + second - offsetMinutes * 60)
        utcMilliseconds = seconds * 1000 + Int64(milliseconds)
    }

    static func daysIn(month: Int, year: Int) -> Int {
        switch month {
        case 2: return year % 4 == 0 && (year % 100 != 0 || year % 400 == 0) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    /// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's days_from_civil).
    static func days(year: Int, month: Int, day: Int) -> Int {
        let y = month <= 2 ? year - 1 : year
        let era = (y >= 0 ? y : y - 399) / 400
        let yearOfEra = y - era * 400
        let dayOfYear = (153 * (month + (month > 2 ? -3 : 9)) + 2) / 5 + day - 1
        let dayOfEra = yearOfEra * 365 + yearOfEra / 4 - yearOfEra / 100 + dayOfYear
        return era * 146_097 + dayOfEra - 719_468
    }

    /// The inverse of `days` (civil_from_days).
    static func civil(fromDays days: Int) -> (year: Int, month: Int, day: Int) {
        let z = days + 719_468
        let era = (z >= 0 ? z : z - 146_096) / 146_097
        let dayOfEra = z - era * 146_097
        let yearOfEra = (dayOfEra - dayOfEra / 1460 + dayOfEra / 36524 - dayOfEra / 146_096) / 365
        let dayOfYear = dayOfEra - (365 * yearOfEra + yearOfEra / 4 - yearOfEra / 100)
        let mp = (5 * dayOfYear + 2) / 153
        let day = dayOfYear - (153 * mp + 2) / 5 + 1
        let month = mp < 10 ? mp + 3 : mp - 9
        return (yearOfEra + era * 400 + (month <= 2 ? 1 : 0), month, day)
    }
}

private extension Int64 {
    func floorDivided(by divisor: Int64) -> Int64 {
        let quotient = self / divisor
        return (self % divisor != 0 && (self < 0) != (divisor < 0)) ? quotient - 1 : quotient
    }
}
