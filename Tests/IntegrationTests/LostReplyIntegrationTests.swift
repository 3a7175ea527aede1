import ClusterModel
import ClusterOps
import Foundation
import RESP
import Testing

/// Commands that change a cluster and lose their reply (a proxy in front of a real node drops the connection
/// just after or just before the command reaches it): each reaches the node exactly once, and the step decides
/// from the node's state.
@Suite(.serialized)
struct LostReplyIntegrationTests {
    typealias Probe = JobOpsProbe

    @Test func aMeetWhoseReplyIsLostIsNotSentAgainAndTheJoinFinishes() throws {
        let cluster = try TestCluster(nodes: 2)
        defer { cluster.stop() }
        let (member, newcomer) = (cluster.nodes[0], cluster.nodes[1])
        #expect(try member.cli(["CLUSTER", "ADDSLOTSRANGE", "0", "16383"]).contains("OK"))
        let proxy = try LossyProxy(upstreamPort: newcomer.port)
        defer { proxy.stop() }
        proxy.arm("MEET", .afterForwarding)

        let session = ClusterSession(access: ClusterAccess(seeds: [RedisEndpoint(member.address)!], credentials: nil))
        defer { session.close() }
        let memberId = try Probe.myId(member)
        let observer = RecordingObserver()
        try NodeJoiner(session: session, observer: observer)
            .run(address: proxy.address, existing: member.address, members: [memberId], masterId: nil)

        #expect(proxy.forwarded("MEET") == 1)
        let newcomerId = try Probe.myId(newcomer)
        #expect(try Probe.lines(member).contains { $0.id == newcomerId && $0.isMaster })
        #expect(try Probe.lines(newcomer).contains { $0.id == memberId })
    }

    @Test func aChangeThatNeverArrivedIsSentOnceMoreAndOneThatArrivedIsNot() throws {
        let cluster = try TestCluster(nodes: 1)
        defer { cluster.stop() }
        let node = cluster.nodes[0]
        let proxy = try LossyProxy(upstreamPort: node.port)
        defer { proxy.stop() }
        let session = ClusterSession(access: ClusterAccess(seeds: [RedisEndpoint(node.address)!], credentials: nil))
        defer { session.close() }
        func owns(_ range: ClosedRange<Int>) throws(ClusterOpsError) -> Bool {
            try session.view(proxy.address).myself.slots.intersection(SlotSet(ranges: [range])) == SlotSet(ranges: [range])
        }

        // Lost before it reached the node: the check sees no slots, so it is sent again, and arrives once.
        proxy.arm("ADDSLOTSRANGE", .beforeForwarding)
        var checks = 0
        let resent = try session.change(proxy.address, ["CLUSTER", "ADDSLOTSRANGE", "0", "99"]) { () throws(ClusterOpsError) -> Bool in
            checks += 1
            return try owns(0...99)
        }
        #expect(resent == .simpleString("OK"))
        #expect(checks == 1)
        #expect(proxy.forwarded("ADDSLOTSRANGE") == 1)

        // Lost after the node carried it out: the check sees the slots, nothing is resent (a resend would fail
        // with "Slot 100 is already busy").
        proxy.arm("ADDSLOTSRANGE", .afterForwarding)
        let verified = try session.change(proxy.address, ["CLUSTER", "ADDSLOTSRANGE", "100", "199"]) { () throws(ClusterOpsError) -> Bool in
            try owns(100...199)
        }
        #expect(verified == nil)
        #expect(proxy.forwarded("ADDSLOTSRANGE") == 2)

        // Without a check the caller verifies by itself: a lost reply is reported as nil and never resent.
        proxy.arm("ADDSLOTSRANGE", .afterForwarding)
        #expect(try session.change(proxy.address, ["CLUSTER", "ADDSLOTSRANGE", "200", "299"], verify: nil) == nil)
        #expect(proxy.forwarded("ADDSLOTSRANGE") == 3)

        // `call` resends only what is declared idempotent; by default a lost reply is an error, sent once.
        proxy.arm("ADDSLOTSRANGE", .afterForwarding)
        #expect(throws: ClusterOpsError.self) { try session.call(proxy.address, ["CLUSTER", "ADDSLOTSRANGE", "300", "399"]) }
        #expect(proxy.forwarded("ADDSLOTSRANGE") == 4)
        proxy.arm("NODES", .afterForwarding)
        #expect(try session.call(proxy.address, ["CLUSTER", "NODES"], idempotent: true).string?.contains("myself") == true)
        #expect(proxy.forwarded("NODES") == 2)

        #expect(try Probe.myself(node).slots == Set(0...399))
    }

    @Test func aForgetAndAResetWhoseRepliesAreLostStillRemoveTheNode() throws {
        let cluster = try TestCluster(nodes: 4)
        defer { cluster.stop() }
        try cluster.create(count: 3, replicas: 0)
        let leaving = cluster.nodes[3]
        let member = cluster.nodes[0]
        let session = ClusterSession(access: ClusterAccess(seeds: [RedisEndpoint(member.address)!], credentials: nil))
        defer { session.close() }
        let observer = RecordingObserver()
        let leavingId = try Probe.myId(leaving)
        let members = Set(try cluster.nodes.prefix(3).map(Probe.myId))
        try NodeJoiner(session: session, observer: observer)
            .run(address: leaving.address, existing: member.address, members: members, masterId: nil)

        let forgetting = try LossyProxy(upstreamPort: cluster.nodes[1].port)
        defer { forgetting.stop() }
        forgetting.arm("FORGET", .afterForwarding)
        let resetting = try LossyProxy(upstreamPort: leaving.port)
        defer { resetting.stop() }
        resetting.arm("RESET", .afterForwarding)
        // The remover reaches node 1 and the leaving node only through the proxies.
        try NodeRemover(session: session, observer: observer).run(
            nodeId: leavingId, address: resetting.address,
            others: [member.address, forgetting.address, cluster.nodes[2].address], reassign: [:])

        #expect(forgetting.forwarded("FORGET") == 1)
        #expect(resetting.forwarded("RESET") == 1)
        for node in cluster.nodes.prefix(3) {
            #expect(try !Probe.lines(node).contains { $0.id == leavingId }, "\(node.address) still knows the removed node")
        }
        #expect(try Probe.lines(leaving).count == 1)
        #expect(try Probe.myId(leaving) != leavingId)
    }
}
