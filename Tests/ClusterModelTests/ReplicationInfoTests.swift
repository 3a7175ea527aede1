import ClusterModel
import Testing

/// `INFO replication` as Redis 7.0.15 printed it at each stage of a replica's first sync (diskless, 200 000 keys),
/// and the judgement failover and add-node wait on.
@Suite struct ReplicationInfoTests {
    static func info(_ lines: [String]) -> String { (["# Replication"] + lines).joined(separator: "\r\n") + "\r\n" }

    /// Right after CLUSTER REPLICATE, during repl-diskless-sync-delay: nothing received yet.
    static let waiting = info([
        "role:slave", "master_host:127.0.0.1", "master_port:21001", "master_link_status:down", "master_last_io_seconds_ago:-1",
        "master_sync_in_progress:0", "slave_read_repl_offset:0", "slave_repl_offset:0", "master_link_down_since_seconds:-1",
        "connected_slaves:0", "master_replid:d19b9f124a5b6a0f35341f63f4ed0cd8b690b0ff", "master_repl_offset:0", "loading:0",
    ])
    /// Receiving the RDB (diskless: total unknown, reported as 0).
    static let receiving = info([
        "role:slave", "master_host:127.0.0.1", "master_port:21001", "master_link_status:down", "master_sync_in_progress:1",
        "slave_read_repl_offset:0", "slave_repl_offset:0", "master_sync_total_bytes:0", "master_sync_read_bytes:1081782",
        "master_sync_left_bytes:-1081782", "master_sync_perc:0.00", "master_link_down_since_seconds:-1",
        "master_replid:d19b9f124a5b6a0f35341f63f4ed0cd8b690b0ff", "master_repl_offset:0", "loading:0",
    ])
    static let synced = info([
        "role:slave", "master_host:127.0.0.1", "master_port:21001", "master_link_status:up", "master_sync_in_progress:0",
        "slave_read_repl_offset:14", "slave_repl_offset:14", "master_replid:8bc3d3e228a0c031c1a7ce85d7a7d85309e467f6",
        "master_repl_offset:14", "loading:0",
    ])
    static let master = info([
        "role:master", "connected_slaves:1", "slave0:ip=127.0.0.1,port=21002,state=online,offset=14,lag=0",
        "master_replid:8bc3d3e228a0c031c1a7ce85d7a7d85309e467f6", "master_repl_offset:14",
    ])

    @Test func parsesEveryStageOfAFirstSync() {
        let waiting = ReplicationInfo.parse(Self.waiting)
        #expect(waiting.isReplica && !waiting.linkUp && !waiting.syncInProgress)
        #expect(waiting.masterAddress == "127.0.0.1:21001")
        #expect(waiting.linkDownSeconds == -1)
        let receiving = ReplicationInfo.parse(Self.receiving)
        #expect(receiving.syncInProgress && receiving.syncReadBytes == 1_081_782 && receiving.syncTotalBytes == 0)
        let synced = ReplicationInfo.parse(Self.synced)
        #expect(synced.linkUp && synced.replicaOffset == 14)
        let master = ReplicationInfo.parse(Self.master)
        #expect(!master.isReplica && master.masterOffset == 14)
        #expect(master.replicas.map(\.address) == ["127.0.0.1:21002"])
        #expect(master.replicas.first?.state == "online" && master.replicas.first?.offset == 14)
        #expect(master.replicationId == synced.replicationId && master.replicationId != waiting.replicationId)
    }

    @Test func onlyALinkedCaughtUpReplicaIsInSync() {
        let judge = { (text: String, offset: Int64) in ReplicaSyncState.judge(replica: ReplicationInfo.parse(text), masterOffset: offset) }
        #expect(judge(Self.waiting, 0) == .linkDown(seconds: -1))
        #expect(judge(Self.receiving, 0) == .syncing(read: 1_081_782, total: nil))
        #expect(judge(Self.synced, 14) == .inSync(lag: 0))
        #expect(judge(Self.synced, 14 + ReplicaSyncState.defaultBound).isInSync)
        #expect(judge(Self.synced, 15 + ReplicaSyncState.defaultBound) == .lagging(replicaOffset: 14, masterOffset: 15 + ReplicaSyncState.defaultBound))
        // Link up but still loading the RDB counts as syncing, not in sync.
        #expect(!judge(Self.synced.replacingOccurrences(of: "loading:0", with: "loading:1"), 14).isInSync)
        #expect(judge(Self.master, 14) == .notReplica)
        #expect(!ReplicaSyncState.linkDown(seconds: nil).description.isEmpty)
    }

    @Test func valkeySpellingsAndGarbageAreRead() {
        let valkey = ReplicationInfo.parse(Self.info(["role:master", "slave0:ip=::1,port=7004,state=online,offset=7,lag=0,type=replica",
                                                      "master_repl_offset:9"]))
        #expect(valkey.replicas.first?.address == "[::1]:7004")
        let empty = ReplicationInfo.parse("garbage\r\n:\r\nslave:notareplica\r\n")
        #expect(!empty.isReplica && empty.replicas.isEmpty && empty.masterOffset == 0)
    }
}

@Suite struct TopologyDigestTests {
    func topology(epoch: Int64 = 1, slots: SlotSet = SlotSet(ranges: [0...16383]), keys: Int = 0) -> ClusterTopology {
        let node = TopologyNode(id: String(repeating: "a", count: 40), address: "127.0.0.1:7001", role: "master", masterId: nil,
                                slots: slots, keys: keys, flags: ["master"], linkState: "connected", configEpoch: epoch,
                                reachable: true, clusterState: "ok", replicas: [], importing: nil, migrating: nil, error: nil)
        return ClusterTopology(nodes: [node], checks: TopologyChecks(ok: true, slotsCovered: true, uncoveredSlots: SlotSet(), nodesAgree: true, disagreements: [], openSlots: [], failingNodes: [], possiblyFailingNodes: [], mastersWithoutReplicas: [], unreachableNodes: [], messages: []), summary: .init(masters: 1, replicas: 0, keys: keys, slotsAssigned: slots.count))
    }

    @Test func changesWithLayoutNotWithKeys() {
        let base = TopologyDigest.etag(topology())
        #expect(base.count == 32)
        #expect(TopologyDigest.etag(topology(keys: 99)) == base)
        #expect(TopologyDigest.etag(topology(epoch: 2)) != base)
        #expect(TopologyDigest.etag(topology(slots: SlotSet(ranges: [0...16382]))) != base)
    }

    @Test func ifMatchTakesQuotedWeakListsAndStar() {
        #expect(TopologyDigest.matches("\"abc\"", etag: "abc"))
        #expect(TopologyDigest.matches("abc", etag: "abc"))
        #expect(TopologyDigest.matches("W/\"abc\"", etag: "abc"))
        #expect(TopologyDigest.matches("\"x\", \"abc\"", etag: "abc"))
        #expect(TopologyDigest.matches("*", etag: "abc"))
        #expect(!TopologyDigest.matches("\"abd\"", etag: "abc"))
        #expect(!TopologyDigest.matches("", etag: "abc"))
    }

    @Test func memoryLimitIsMaxmemoryElseSystemMemory() {
        let info = MemoryInfo.parse("# Memory\r\nused_memory:42483184\r\nmaxmemory:0\r\ntotal_system_memory:25276194816\r\n")
        #expect(info == MemoryInfo(usedMemory: 42_483_184, maxMemory: 0, totalSystemMemory: 25_276_194_816))
        #expect(info?.limit == 25_276_194_816 && info?.limitName == "system memory")
        #expect(MemoryInfo.parse("maxmemory:3145728\r\nused_memory:1\r\n")?.limit == 3_145_728)
        #expect(MemoryInfo.parse("nothing here") == nil)
    }
}
