import ClusterModel
import Testing

struct HashSlotTests {
    @Test("slots the seed documents observed in MOVED / redirect replies")
    func seedRedirects() {
        #expect(HashSlot.slot(for: "k1") == 12706)
        #expect(HashSlot.slot(for: "k2") == 449)
        #expect(HashSlot.slot(for: "a") == 15495)
    }

    @Test func knownValues() {
        #expect(HashSlot.slot(for: "foo") == 12182)
        #expect(HashSlot.slot(for: "") == 0)
        // CRC16-XMODEM check value of "123456789" is 0x31C3.
        #expect(HashSlot.slot(for: "123456789") == 0x31C3)
    }

    @Test func hashTagsSelectTheSameSlot() {
        #expect(HashSlot.slot(for: "{user1000}.following") == HashSlot.slot(for: "{user1000}.followers"))
        #expect(HashSlot.slot(for: "{user1000}.following") == HashSlot.slot(for: "user1000"))
        #expect(HashSlot.slot(for: "foo{bar}{zap}") == HashSlot.slot(for: "bar"))
        #expect(HashSlot.slot(for: "foo{{bar}}zap") == HashSlot.slot(for: "{bar"))
    }

    @Test("an empty or unterminated tag hashes the whole key")
    func emptyTagHashesWholeKey() {
        #expect(HashSlot.slot(for: "{}") == 15257)
        #expect(HashSlot.slot(for: "foo{}{bar}") != HashSlot.slot(for: "bar"))
        #expect(HashSlot.slot(for: "{}k1") != HashSlot.slot(for: "k1"))
        #expect(HashSlot.slot(for: "{k1") != HashSlot.slot(for: "k1"))
    }

    @Test func bytesAndStringsAgree() {
        let key: [UInt8] = Array("k1".utf8)
        #expect(HashSlot.slot(for: key) == 12706)
        #expect(HashSlot.count == 16384)
    }

    @Test func slotsStayInRange() {
        var generator = SeededGenerator(seed: 7)
        for _ in 0..<2000 {
            let length = Int.random(in: 0...24, using: &generator)
            let key = (0..<length).map { _ in UInt8.random(in: 0...255, using: &generator) }
            #expect((0..<HashSlot.count).contains(HashSlot.slot(for: key)))
        }
    }
}
