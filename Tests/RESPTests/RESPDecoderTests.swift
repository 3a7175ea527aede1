import Testing
@testable import RESP

@Suite struct RESPDecoderTests {
    private func decodeAll(_ text: String, maxDepth: Int = 64, maxBulkLength: Int = 512 << 20)
        throws(RESPProtocolError) -> [RESPValue]
    {
        var decoder = RESPDecoder(maxDepth: maxDepth, maxBulkLength: maxBulkLength)
        decoder.append(Array(text.utf8))
        var values: [RESPValue] = []
        while let value = try decoder.next() {
            values.append(value)
        }
        return values
    }

    private func decodeOne(_ text: String) throws(RESPProtocolError) -> RESPValue? {
        var decoder = RESPDecoder()
        decoder.append(Array(text.utf8))
        return try decoder.next()
    }

    @Test func resp2Types() throws {
        #expect(try decodeOne("+OK\r\n") == .simpleString("OK"))
        #expect(try decodeOne("-ERR unknown command\r\n") == .error("ERR unknown command"))
        #expect(try decodeOne(":42\r\n") == .integer(42))
        #expect(try decodeOne(":-9223372036854775808\r\n") == .integer(.min))
        #expect(try decodeOne(":9223372036854775807\r\n") == .integer(.max))
        #expect(try decodeOne("$5\r\nhello\r\n") == .bulkString(Array("hello".utf8)))
        #expect(try decodeOne("$0\r\n\r\n") == .bulkString([]))
        #expect(try decodeOne("$4\r\na\r\nb\r\n") == .bulkString(Array("a\r\nb".utf8)))
        #expect(try decodeOne("$-1\r\n") == .null)
        #expect(try decodeOne("*-1\r\n") == .null)
        #expect(try decodeOne("*0\r\n") == .array([]))
        #expect(try decodeOne("*3\r\n:1\r\n*2\r\n+a\r\n$-1\r\n*0\r\n")
            == .array([.integer(1), .array([.simpleString("a"), .null]), .array([])]))
    }

    @Test func resp3Types() throws {
        #expect(try decodeOne("_\r\n") == .null)
        #expect(try decodeOne("#t\r\n") == .integer(1))
        #expect(try decodeOne("#f\r\n") == .integer(0))
        #expect(try decodeOne(",3.25\r\n") == .bulkString(Array("3.25".utf8)))
        #expect(try decodeOne(",inf\r\n") == .bulkString(Array("inf".utf8)))
        #expect(try decodeOne("(3492890328409238509324850943850943825024385\r\n")
            == .bulkString(Array("3492890328409238509324850943850943825024385".utf8)))
        #expect(try decodeOne("!21\r\nSYNTAX invalid syntax\r\n") == .error("SYNTAX invalid syntax"))
        #expect(try decodeOne("=15\r\ntxt:Some string\r\n") == .bulkString(Array("Some string".utf8)))
        #expect(try decodeOne("%2\r\n+a\r\n:1\r\n+b\r\n#t\r\n")
            == .array([.simpleString("a"), .integer(1), .simpleString("b"), .integer(1)]))
        #expect(try decodeOne("~2\r\n+x\r\n+y\r\n") == .array([.simpleString("x"), .simpleString("y")]))
        #expect(try decodeOne(">2\r\n+message\r\n+hi\r\n") == .array([.simpleString("message"), .simpleString("hi")]))
    }

    @Test func attributesAreSkipped() throws {
        #expect(try decodeOne("|1\r\n+ttl\r\n:3\r\n:7\r\n") == .integer(7))
        #expect(try decodeOne("*2\r\n|1\r\n+a\r\n+b\r\n:1\r\n:2\r\n") == .array([.integer(1), .integer(2)]))
        #expect(try decodeOne("|0\r\n+after\r\n") == .simpleString("after"))
    }

    @Test func consecutiveValuesComeOutInOrder() throws {
        #expect(try decodeAll("+a\r\n:1\r\n$1\r\nx\r\n*1\r\n_\r\n")
            == [.simpleString("a"), .integer(1), .bulkString([UInt8(ascii: "x")]), .array([.null])])
    }

    @Test func splitAtEveryBytePosition() throws {
        let bytes = Array("*4\r\n$3\r\nfoo\r\n*2\r\n:-5\r\n%1\r\n+k\r\n$2\r\n\r\n\r\n$-1\r\n-ERR x\r\n".utf8)
        let expected = RESPValue.array([
            .bulkString(Array("foo".utf8)),
            .array([.integer(-5), .array([.simpleString("k"), .bulkString([13, 10])])]),
            .null,
            .error("ERR x"),
        ])
        for split in 0..<bytes.count {
            var decoder = RESPDecoder()
            decoder.append(bytes[..<split])
            #expect(try decoder.next() == nil, "split at \(split)")
            decoder.append(bytes[split...])
            #expect(try decoder.next() == expected, "split at \(split)")
            #expect(try decoder.next() == nil)
        }
        var decoder = RESPDecoder()
        for (index, byte) in bytes.enumerated() {
            decoder.append([byte])
            let value = try decoder.next()
            #expect(value == (index == bytes.count - 1 ? expected : nil), "byte \(index)")
        }
    }

    @Test func largeBulkInChunksAfterOtherReplies() throws {
        let payload = (0..<3_000_000).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        let stream = Array(":1\r\n".utf8) + Array("$\(payload.count)\r\n".utf8) + payload + Array("\r\n+done\r\n".utf8)
        var decoder = RESPDecoder()
        var values: [RESPValue] = []
        var offset = 0
        while offset < stream.count {
            let end = min(offset + 65_536, stream.count)
            decoder.append(stream[offset..<end])
            offset = end
            while let value = try decoder.next() {
                values.append(value)
            }
        }
        #expect(values == [.integer(1), .bulkString(payload), .simpleString("done")])
    }

    @Test func nestingDepthIsCapped() throws {
        let allowed = String(repeating: "*1\r\n", count: 4) + ":1\r\n"
        var value = RESPValue.integer(1)
        for _ in 0..<4 { value = .array([value]) }
        #expect(try decodeAll(allowed, maxDepth: 4) == [value])
        let tooDeep = String(repeating: "*1\r\n", count: 5) + ":1\r\n"
        #expect(throws: RESPProtocolError.self) { try decodeAll(tooDeep, maxDepth: 4) }
        // The cap applies before the nested values arrive, so a deep header flood is rejected early.
        #expect(throws: RESPProtocolError.self) { try decodeAll(String(repeating: "*1\r\n", count: 65)) }
    }

    @Test(arguments: [
        "$abc\r\n", "$-2\r\nxx\r\n", "*-5\r\n", "$\r\n", ":12a\r\n", ":-\r\n",
        ":99999999999999999999\r\n", "$3\r\nfooXY", "#x\r\n", "+OK\rX", "*99999999999\r\n",
    ])
    func malformedInputThrows(_ input: String) {
        #expect(throws: RESPProtocolError.self) { try decodeAll(input) }
    }

    @Test(arguments: ["?\r\n", "x\r\n", "\r\n", "OK\r\n"])
    func invalidTypeByteThrows(_ input: String) {
        #expect(throws: RESPProtocolError.self) { try decodeAll(input) }
    }

    @Test func bulkLongerThanLimitThrowsBeforePayloadArrives() {
        #expect(throws: RESPProtocolError.self) { try decodeAll("$11\r\n", maxBulkLength: 10) }
        #expect(throws: RESPProtocolError.self) { try decodeAll("$536870913\r\n") }
        #expect((try? decodeAll("$10\r\n0123456789\r\n", maxBulkLength: 10)) == [.bulkString(Array("0123456789".utf8))])
    }

    @Test func unterminatedHugeLineThrows() {
        #expect(throws: RESPProtocolError.self) { try decodeAll("+" + String(repeating: "a", count: 2 << 20)) }
    }
}
