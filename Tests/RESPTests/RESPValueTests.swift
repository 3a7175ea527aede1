import Testing
import RESP

@Suite struct RESPValueTests {
    @Test func accessors() {
        #expect(RESPValue.simpleString("OK").string == "OK")
        #expect(RESPValue.bulkString(Array("hé".utf8)).string == "hé")
        #expect(RESPValue.integer(3).string == nil)
        #expect(RESPValue.integer(-3).int == -3)
        #expect(RESPValue.bulkString(Array("17".utf8)).int == 17)
        #expect(RESPValue.simpleString("17").int == 17)
        #expect(RESPValue.bulkString(Array("x".utf8)).int == nil)
        #expect(RESPValue.null.int == nil)
        #expect(RESPValue.array([.null]).array == [.null])
        #expect(RESPValue.simpleString("a").array == nil)
        #expect(RESPValue.bulkString([0, 255]).bytes == [0, 255])
        #expect(RESPValue.simpleString("ab").bytes == [97, 98])
        #expect(RESPValue.error("ERR").bytes == nil)
    }

    @Test func description() {
        let value = RESPValue.array([.simpleString("OK"), .integer(2), .bulkString(Array("v".utf8)), .null, .error("ERR x")])
        #expect(value.description == "[OK, (integer) 2, \"v\", (nil), (error) ERR x]")
    }
}
