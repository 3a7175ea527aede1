import Store
import Testing

/// Query filters take any RFC 3339 date-time that JSON Schema's `format: date-time` admits, and nothing else.
@Suite struct TimestampTests {
    @Test(arguments: [
        ("2026-01-31T12:00:00Z", "2026-01-31T12:00:00.000Z"),
        ("2026-01-31t12:00:00z", "2026-01-31T12:00:00.000Z"),
        ("2026-01-31T12:00:00.5+02:00", "2026-01-31T10:00:00.500Z"),
        ("2026-01-31T12:00:00.123456789Z", "2026-01-31T12:00:00.123Z"),
        ("6675-02-08T16:36:22-18:26", "6675-02-09T11:02:22.000Z"),
        ("2020-01-01T00:00:00+23:59", "2019-12-31T00:01:00.000Z"),
        ("2016-12-31T23:59:60Z", "2017-01-01T00:00:00.000Z"),
        ("2016-12-31T22:59:60-01:00", "2017-01-01T00:00:00.000Z"),
        ("2024-02-29T00:00:00-00:00", "2024-02-29T00:00:00.000Z"),
        ("0000-01-01T00:00:00+01:00", "0000-01-01T00:00:00.000Z"),
        ("9999-12-31T23:59:59-05:00", "9999-12-31T23:59:59.999Z"),
    ])
    func normalisesRFC3339(text: String, expected: String) {
        #expect(Timestamp.normalise(text) == expected)
    }

    @Test(arguments: [
        "", "yesterday", "2026-01-31", "2026-01-31 12:00:00Z", "2026-01-31T12:00:00", "2026-01-31T12:00Z",
        "2026-01-31T12:00:00.Z", "2026-02-30T00:00:00Z", "2019-02-29T00:00:00Z", "2026-13-01T00:00:00Z",
        "2026-01-31T24:00:00Z", "2026-01-31T12:00:00+24:00", "2026-01-31T12:59:60Z", "2026-1-31T12:00:00Z",
        "2026-01-31T12:00:00Z ", "+2026-01-31T12:00:00Z",
    ])
    func refusesTheRest(text: String) {
        #expect(Timestamp.normalise(text) == nil)
    }

    @Test func storedFormIsWhatNowWrites() {
        let now = Timestamp.now()
        #expect(Timestamp.normalise(now) == now)
    }
}
