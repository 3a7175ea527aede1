import Testing
import RESP

@Suite struct RESPEncoderTests {
    @Test func encodesStringCommand() {
        #expect(RESPEncoder.command(["SET", "key", ""])
            == Array("*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$0\r\n\r\n".utf8))
    }

    @Test func encodesBinaryArgumentsVerbatim() {
        let value: [UInt8] = [0, 13, 10, 255]
        #expect(RESPEncoder.command([Array("ECHO".utf8), value])
            == Array("*2\r\n$4\r\nECHO\r\n$4\r\n".utf8) + value + [13, 10])
    }

    @Test func encodesNonASCIIByUTF8Length() {
        #expect(RESPEncoder.command(["é"]) == Array("*1\r\n$2\r\né\r\n".utf8))
    }

    @Test func encodedCommandDecodesBack() throws {
        var decoder = RESPDecoder()
        decoder.append(RESPEncoder.command(["CLUSTER", "SETSLOT", "42", "NODE", "abc"]))
        let args = ["CLUSTER", "SETSLOT", "42", "NODE", "abc"].map { RESPValue.bulkString(Array($0.utf8)) }
        #expect(try decoder.next() == .array(args))
    }
}
