@testable import ClusterModel
import Foundation
import Testing

struct ClusterNodesParserTests {
    static let allSeedBlocks: [(String, Int)] = [
        (SeedFixtures.s001Created, 6), (SeedFixtures.s001Failover, 6), (SeedFixtures.s001OldMasterBack, 6),
        (SeedFixtures.s001Restored, 6), (SeedFixtures.s002Failover, 6), (SeedFixtures.s002OldMasterBack, 6),
        (SeedFixtures.s002Restored, 6), (SeedFixtures.s002MasterAndReplicaDown, 6), (SeedFixtures.s002FourMasters, 8),
        (SeedFixtures.s003Failover, 6), (SeedFixtures.s003OldMasterBack, 6), (SeedFixtures.s003Forgotten, 5),
        (SeedFixtures.s003MetAgain, 6), (SeedFixtures.s003MasterForgotten, 5), (SeedFixtures.s003AddedMaster, 7),
        (SeedFixtures.s003AddedTwoMasters, 8), (SeedFixtures.s003AddedTwoMastersLater, 8),
        (SeedFixtures.s003AddedReplica, 9), (SeedFixtures.s004Redis3, 6), (SeedFixtures.s004Failover, 4),
    ]

    @Test("every seed block parses into one entry per line with exactly one myself",
          arguments: allSeedBlocks.indices)
    func everySeedBlockParses(index: Int) throws {
        let (text, lines) = Self.allSeedBlocks[index]
        let entries = try ClusterNodesParser.parse(text)
        #expect(entries.count == lines)
        #expect(entries.filter(\.isMyself).count == 1)
        #expect(Set(entries.map(\.id)).count == lines)
        for entry in entries {
            #expect(entry.isMaster != entry.isReplica)
            #expect(entry.isReplica || entry.masterId == nil)
            #expect(entry.address == "\(entry.host):\(entry.port)")
        }
    }

    @Test func createdClusterFromSeed001() throws {
        let entries = try ClusterNodesParser.parse(SeedFixtures.s001Created)
        let me = try #require(entries.first)
        #expect(me.id == "e9f6799de802f01ef0a001e02f7fc63b76ec003b")
        #expect(me.host == "127.0.0.1")
        #expect(me.port == 6381)
        #expect(me.busPort == 16381)
        #expect(me.hostname == nil)
        #expect(me.flags == ["myself", "master"])
        #expect(me.isMyself && me.isMaster && !me.isReplica)
        #expect(me.masterId == nil)
        #expect(me.pingSent == 0)
        #expect(me.pongReceived == 1_683_553_391_000)
        #expect(me.configEpoch == 1)
        #expect(me.linkState == "connected")
        #expect(me.slots == SlotSet(ranges: [0...5460]))
        #expect(me.importing.isEmpty && me.migrating.isEmpty)

        let replica = entries[1]
        #expect(replica.address == "127.0.0.1:6384")
        #expect(replica.flags == ["slave"])
        #expect(replica.isReplica && !replica.isMaster)
        #expect(replica.masterId == "d38ee9755d159524733c8cdadf142ef641deb1c5")
        #expect(replica.slots.isEmpty)

        let masters = entries.filter(\.isMaster)
        #expect(masters.map(\.slots.count) == [5461, 5462, 5461])
        #expect(masters.reduce(SlotSet()) { $0.union($1.slots) } == .all)
    }

    @Test func failedMasterFromSeed001() throws {
        let entries = try ClusterNodesParser.parse(SeedFixtures.s001Failover)
        let failed = try #require(entries.first { $0.port == 6381 })
        #expect(failed.flags == ["master", "fail"])
        #expect(failed.isFailing && !failed.isPossiblyFailing)
        #expect(failed.linkState == "disconnected")
        #expect(failed.pingSent == 1_683_595_566_707)
        #expect(failed.slots.isEmpty)
        let promoted = try #require(entries.first { $0.port == 6386 })
        #expect(promoted.isMaster && promoted.configEpoch == 7 && promoted.slots == SlotSet(ranges: [0...5460]))
    }

    @Test func failedMasterKeepsItsSlotsInSeed002() throws {
        let entries = try ClusterNodesParser.parse(SeedFixtures.s002MasterAndReplicaDown)
        let master = try #require(entries.first { $0.port == 6382 })
        #expect(master.isFailing && master.slots == SlotSet(ranges: [5461...10922]))
        let replica = try #require(entries.first { $0.port == 6386 })
        #expect(replica.flags == ["slave", "fail"] && replica.isReplica && replica.isFailing)
        #expect(replica.linkState == "disconnected")
    }

    @Test("several slot ranges on one line (seed 002, after the 3→4 reshard)")
    func multipleRanges() throws {
        let entries = try ClusterNodesParser.parse(SeedFixtures.s002FourMasters)
        let added = try #require(entries.first { $0.port == 6387 })
        #expect(added.slots == SlotSet(ranges: [0...1364, 5461...6826, 10923...12287]))
        #expect(added.slots.count == 4096)
        #expect(entries.filter(\.isMaster).allSatisfy { $0.slots.count == 4096 })
    }

    @Test("Redis 3 addresses have no cluster bus port")
    func redis3Format() throws {
        let entries = try ClusterNodesParser.parse(SeedFixtures.s004Redis3)
        #expect(entries.allSatisfy { $0.busPort == nil && $0.port == 6379 })
        let me = try #require(entries.first { $0.isMyself })
        #expect(me.address == "10.0.0.7:6379")
        #expect(me.pongReceived == 0)
        #expect(me.configEpoch == 8)
    }

    @Test("a failed master may still be shown as connected")
    func failButConnected() throws {
        let entries = try ClusterNodesParser.parse(SeedFixtures.s004Failover)
        let failed = try #require(entries.first { $0.host == "10.0.0.4" })
        #expect(failed.isFailing && failed.linkState == "connected")
    }

    @Test("a replica whose master was forgotten shows '-' as master id")
    func replicaOfNobody() throws {
        let entries = try ClusterNodesParser.parse(SeedFixtures.s003MasterForgotten)
        let orphan = try #require(entries.first { $0.port == 9001 })
        #expect(orphan.isReplica && orphan.masterId == nil)
    }

    @Test("an empty new master with config epoch 0 (seed 003)")
    func emptyMaster() throws {
        let entries = try ClusterNodesParser.parse(SeedFixtures.s003AddedReplica)
        let empty = try #require(entries.first { $0.port == 9008 })
        #expect(empty.isMaster && empty.slots.isEmpty && empty.configEpoch == 0)
        let replica = try #require(entries.first { $0.port == 9009 })
        #expect(replica.masterId == empty.id)
    }

    @Test func openSlotsAreParsed() throws {
        let text = """
            d38ee9755d159524733c8cdadf142ef641deb1c5 127.0.0.1:6382@16382 myself,master - 0 0 2 connected 5462-10922 [5461->-bded87e6083159198b9159c40a9c8804e744df13]
            bded87e6083159198b9159c40a9c8804e744df13 127.0.0.1:6387@16387 myself,master - 0 0 9 connected 0-10 12 [5461-<-d38ee9755d159524733c8cdadf142ef641deb1c5] [5470-<-d38ee9755d159524733c8cdadf142ef641deb1c5]
            """
        let entries = try ClusterNodesParser.parse(text)
        #expect(entries[0].slots == SlotSet(ranges: [5462...10922]))
        #expect(entries[0].migrating == [5461: "bded87e6083159198b9159c40a9c8804e744df13"])
        #expect(entries[0].importing.isEmpty)
        #expect(entries[1].slots == SlotSet(ranges: [0...10, 12...12]))
        #expect(entries[1].importing == [
            5461: "d38ee9755d159524733c8cdadf142ef641deb1c5", 5470: "d38ee9755d159524733c8cdadf142ef641deb1c5",
        ])
        #expect(entries[1].migrating.isEmpty)
    }

    @Test func hostnamesIPv6AndNoaddr() throws {
        let text = """
            e9f6799de802f01ef0a001e02f7fc63b76ec003b 10.1.2.3:6379@16379,redis-0.example myself,master - 0 0 1 connected 0-5460
            d38ee9755d159524733c8cdadf142ef641deb1c5 ::1:6380@16380 master - 0 0 2 connected 5461-10922
            587a8c64afbe43f080aa2ae7cd293c07fb08713b :0@0 master,fail,noaddr - 0 0 3 disconnected
            0a70839c1edb064753f820623e7ab17e9fd19992 10.1.2.4:6379@16379, slave e9f6799de802f01ef0a001e02f7fc63b76ec003b 0 0 1 connected
            7dc5673f6f5cdd652395f1dfa7c399c6366ac88e 10.1.2.5:6379@16379 handshake - 0 0 0 connected
            """
        let entries = try ClusterNodesParser.parse(text)
        #expect(entries[0].hostname == "redis-0.example")
        #expect(entries[0].address == "10.1.2.3:6379")
        #expect(entries[1].host == "::1" && entries[1].port == 6380 && entries[1].busPort == 16380)
        #expect(entries[1].address == "[::1]:6380")
        #expect(entries[2].host == "" && entries[2].port == 0 && entries[2].busPort == 0)
        #expect(entries[2].hasNoAddress && entries[2].isFailing)
        #expect(entries[3].hostname == nil && entries[3].busPort == 16379)
        #expect(entries[4].inHandshake && entries[4].flags == ["handshake"])
    }

    @Test("Redis 7 prints 'replica' for newer flag sets; 'noflags' means none")
    func replicaFlagAndNoflags() throws {
        let text = """
            0a70839c1edb064753f820623e7ab17e9fd19992 10.0.0.1:6379@16379 myself,replica e9f6799de802f01ef0a001e02f7fc63b76ec003b 0 0 1 connected
            7dc5673f6f5cdd652395f1dfa7c399c6366ac88e 10.0.0.2:6379@16379 noflags - 0 0 0 connected
            """
        let entries = try ClusterNodesParser.parse(text)
        #expect(entries[0].isReplica && entries[0].isMyself)
        #expect(entries[1].flags.isEmpty && !entries[1].isMaster && !entries[1].isReplica)
    }

    @Test("the reply's bytes parse as its text does", arguments: allSeedBlocks.indices)
    func bytesParseLikeText(index: Int) throws {
        let text = Self.allSeedBlocks[index].0
        #expect(try ClusterNodesParser.parse(Array(text.utf8)) == (try ClusterNodesParser.parse(text)))
    }

    @Test func crlfBlankLinesAndTrailingSpaces() throws {
        let text = "\r\n" + SeedFixtures.s001Created.split(separator: "\n").joined(separator: " \r\n") + "\r\n\r\n"
        let entries = try ClusterNodesParser.parse(text)
        #expect(entries == (try ClusterNodesParser.parse(SeedFixtures.s001Created)))
        #expect(try ClusterNodesParser.parse("").isEmpty)
        #expect(try ClusterNodesParser.parse("\n\n  \n").isEmpty)
    }

    static let malformed: [(String, String)] = [
        ("e9f6799de802f01ef0a001e02f7fc63b76ec003b 127.0.0.1:6381@16381 master - 0 0 1", "field count"),
        ("e9f6799de802f01ef0a001e02f7fc63b76ec003 127.0.0.1:6381@16381 master - 0 0 1 connected", "short id"),
        ("e9f6799de802f01ef0a001e02f7fc63b76ec003g 127.0.0.1:6381@16381 master - 0 0 1 connected", "non-hex id"),
        ("e9f6799de802f01ef0a001e02f7fc63b76ec003b 127.0.0.1@16381 master - 0 0 1 connected", "no port"),
        ("e9f6799de802f01ef0a001e02f7fc63b76ec003b 127.0.0.1:99999@16381 master - 0 0 1 connected", "port range"),
        ("e9f6799de802f01ef0a001e02f7fc63b76ec003b 127.0.0.1:6381@x master - 0 0 1 connected", "bus port"),
        ("e9f6799de802f01ef0a001e02f7fc63b76ec003b 127.0.0.1:6381@16381 slave abc 0 0 1 connected", "master id"),
        ("e9f6799de802f01ef0a001e02f7fc63b76ec003b 127.0.0.1:6381@16381 master - x 0 1 connected", "ping"),
        ("e9f6799de802f01ef0a001e02f7fc63b76ec003b 127.0.0.1:6381@16381 master - 0 0 y connected", "epoch"),
        ("e9f6799de802f01ef0a001e02f7fc63b76ec003b 127.0.0.1:6381@16381 master - 0 0 1 linked", "link state"),
        ("e9f6799de802f01ef0a001e02f7fc63b76ec003b 127.0.0.1:6381@16381 master - 0 0 1 connected 0-16384", "slot range"),
        ("e9f6799de802f01ef0a001e02f7fc63b76ec003b 127.0.0.1:6381@16381 master - 0 0 1 connected 10-5", "reversed"),
        ("e9f6799de802f01ef0a001e02f7fc63b76ec003b 127.0.0.1:6381@16381 master - 0 0 1 connected abc", "slot text"),
        ("e9f6799de802f01ef0a001e02f7fc63b76ec003b 127.0.0.1:6381@16381 master - 0 0 1 connected 1-2-3", "dashes"),
        ("e9f6799de802f01ef0a001e02f7fc63b76ec003b 127.0.0.1:6381@16381 master - 0 0 1 connected [5461->-abc]", "open peer"),
        ("e9f6799de802f01ef0a001e02f7fc63b76ec003b 127.0.0.1:6381@16381 master - 0 0 1 connected [5461]", "open form"),
        ("e9f6799de802f01ef0a001e02f7fc63b76ec003b 127.0.0.1:6381@16381 master - 0 0 1 connected [5461->-", "bracket"),
    ]

    @Test("malformed lines are rejected and quoted", arguments: malformed.indices)
    func malformedLineThrowsWithLine(index: Int) {
        let (line, _) = Self.malformed[index]
        let text = SeedFixtures.s001Created + "\n" + line
        do {
            _ = try ClusterNodesParser.parse(text)
            Issue.record("expected \(Self.malformed[index].1) to be rejected")
        } catch {
            guard case let .malformedNodesLine(reported, reason) = error else {
                Issue.record("unexpected error \(error)")
                return
            }
            #expect(reported == line)
            #expect(!reason.isEmpty)
            #expect(error.description.contains(line))
        }
    }

    @Test("malformed bytes are rejected as the same text is", arguments: malformed.indices)
    func malformedBytesThrowLikeText(index: Int) {
        let text = SeedFixtures.s001Created + "\n" + Self.malformed[index].0
        let fromText = #expect(throws: ClusterModelError.self) { try ClusterNodesParser.parse(text) }
        let fromBytes = #expect(throws: ClusterModelError.self) { try ClusterNodesParser.parse(Array(text.utf8)) }
        #expect(fromBytes != nil && fromBytes == fromText)
    }

    @Test func entryRoundTripsThroughJSON() throws {
        let text = """
            bded87e6083159198b9159c40a9c8804e744df13 127.0.0.1:6387@16387,node-7 myself,master - 0 0 9 connected 0-10 [5461-<-d38ee9755d159524733c8cdadf142ef641deb1c5]
            """
        let entry = try #require(try ClusterNodesParser.parse(text).first)
        let encoder = JSONEncoder()
        encoder.keyEncodingStrategy = .convertToSnakeCase
        encoder.outputFormatting = .sortedKeys
        let json = String(decoding: try encoder.encode(entry), as: UTF8.self)
        #expect(json.contains("\"importing\":[{\"node\":\"d38ee9755d159524733c8cdadf142ef641deb1c5\",\"slot\":5461}]"))
        #expect(json.contains("\"bus_port\":16387"))
        #expect(json.contains("\"slots\":[[0,10]]"))
        let decoder = JSONDecoder()
        decoder.keyDecodingStrategy = .convertFromSnakeCase
        #expect(try decoder.decode(ClusterNodeEntry.self, from: Data(json.utf8)) == entry)
    }
}
