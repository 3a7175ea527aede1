import ClusterModel
import Testing

struct AddressMapTests {
    @Test("exact entries win over rules; the first matching rule wins; anything else is not mapped")
    func precedence() {
        let map = AddressMap(
            nodes: ["10.0.0.5:6379": "127.0.0.1:7001"],
            rules: [AddressMap.Rule(announced: "10.0.0.0/24", reachable: "127.0.0.1", portOffset: 1000),
                    AddressMap.Rule(announced: "10.0.0.0/8", reachable: "192.0.2.1")])
        #expect(map.reachable("10.0.0.5:6379") == "127.0.0.1:7001")
        #expect(map.reachable("10.0.0.6:6379") == "127.0.0.1:7379")
        #expect(map.reachable("10.1.0.6:6379") == "192.0.2.1:6379")
        #expect(map.reachable("11.0.0.6:6379") == nil)
        #expect(map.reachable("redis-a:6379") == nil)
        #expect(map.announced("127.0.0.1:7001") == "10.0.0.5:6379")
        #expect(map.announced("127.0.0.1:7379") == nil)
    }

    @Test("prefix lengths that are not byte-aligned, IPv6, host names and ports pushed out of range")
    func matching() {
        let map = AddressMap(
            nodes: ["Redis-A:6379": "[::1]:7001"],
            rules: [AddressMap.Rule(announced: "198.18.0.0/15", reachable: "127.0.0.1"),
                    AddressMap.Rule(announced: "fd00::/8", reachable: "::1", portOffset: -6000),
                    AddressMap.Rule(announced: "172.16.0.0/12", reachable: "127.0.0.1", portOffset: 60000)])
        #expect(map.reachable("198.19.255.1:6379") == "127.0.0.1:6379")
        #expect(map.reachable("198.20.0.1:6379") == nil)
        #expect(map.reachable("[fd12::5]:7000") == "[::1]:1000")
        #expect(map.reachable("redis-a:6379") == "[::1]:7001")
        #expect(map.reachable("172.17.0.2:6379") == nil)
        #expect(map.reachable("172.17.0.2:5000") == "127.0.0.1:65000")
        #expect(AddressMap.Rule(announced: "10.0.0.0/33", reachable: "x").network == nil)
        #expect(AddressMap.Rule(announced: "10.0.0.0", reachable: "x").network == nil)
        #expect(AddressMap.Rule(announced: "example/8", reachable: "x").network == nil)
    }
}
