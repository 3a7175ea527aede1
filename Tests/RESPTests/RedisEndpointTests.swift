import Foundation
import Testing
import RESP

@Suite struct RedisEndpointTests {
    @Test(arguments: [
        ("127.0.0.1:6379", "127.0.0.1", 6379),
        ("localhost:7000", "localhost", 7000),
        ("[::1]:7000", "::1", 7000),
        ("[fe80::1%eth0]:1", "fe80::1%eth0", 1),
        ("redis-0.redis.svc:65535", "redis-0.redis.svc", 65535),
    ])
    func parsesValid(_ text: String, host: String, port: Int) {
        let endpoint = RedisEndpoint(text)
        #expect(endpoint == RedisEndpoint(host: host, port: port))
        #expect(endpoint?.description == text)
    }

    @Test(arguments: [
        "", "localhost", "localhost:", ":6379", "host:0", "host:65536", "host:-1", "host:+80", "host:80x",
        "host:0000080", "::1:7000", "[::1]", "[::1]7000", "[::1:7000", "[]:7000", "[127.0.0.1]:80",
        "ho st:80", "host: 80", "host:٣٣",
    ])
    func rejectsInvalid(_ text: String) {
        #expect(RedisEndpoint(text) == nil)
    }

    @Test func describesIPv6WithBrackets() {
        #expect(RedisEndpoint(host: "::1", port: 6379).description == "[::1]:6379")
        #expect(RedisEndpoint(host: "10.0.0.1", port: 6379).description == "10.0.0.1:6379")
    }

    @Test func codableAsString() throws {
        let endpoints = [RedisEndpoint(host: "10.0.0.1", port: 7001), RedisEndpoint(host: "::1", port: 7002)]
        let data = try JSONEncoder().encode(endpoints)
        #expect(String(decoding: data, as: UTF8.self) == #"["10.0.0.1:7001","[::1]:7002"]"#)
        #expect(try JSONDecoder().decode([RedisEndpoint].self, from: data) == endpoints)
        #expect(throws: DecodingError.self) {
            try JSONDecoder().decode([RedisEndpoint].self, from: Data(#"["nope"]"#.utf8))
        }
    }
}
