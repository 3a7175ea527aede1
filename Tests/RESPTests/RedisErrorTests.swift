import Testing
import RESP

@Suite struct RedisErrorTests {
    @Test(arguments: [
        ("MOVED 3999 127.0.0.1:6381", RedisError.moved(slot: 3999, endpoint: "127.0.0.1:6381")),
        ("ASK 0 10.0.0.2:7000", .ask(slot: 0, endpoint: "10.0.0.2:7000")),
        ("MOVED 16383 ::1:7000", .moved(slot: 16383, endpoint: "[::1]:7000")),
        ("MOVED 16384 127.0.0.1:6381", .server(code: "MOVED", message: "MOVED 16384 127.0.0.1:6381")),
        ("ASK x 127.0.0.1:6381", .server(code: "ASK", message: "ASK x 127.0.0.1:6381")),
        ("CLUSTERDOWN Hash slot not served", .clusterDown("CLUSTERDOWN Hash slot not served")),
        ("TRYAGAIN Multiple keys request during rehashing of slot",
         .tryAgain("TRYAGAIN Multiple keys request during rehashing of slot")),
        ("BUSYKEY Target key name already exists.", .busyKey("BUSYKEY Target key name already exists.")),
        ("NOAUTH Authentication required.", .noAuth("NOAUTH Authentication required.")),
        ("WRONGPASS invalid username-password pair or user is disabled.",
         .wrongPass("WRONGPASS invalid username-password pair or user is disabled.")),
        ("ERR invalid password", .wrongPass("ERR invalid password")),
        ("ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?",
         .server(code: "ERR", message: "ERR AUTH <password> called without any password configured for the default user. Are you sure your configuration is correct?")),
        ("ERR unknown command 'FOO'", .server(code: "ERR", message: "ERR unknown command 'FOO'")),
        ("NOPERM this user has no permissions", .server(code: "NOPERM", message: "NOPERM this user has no permissions")),
        ("LOADING Redis is loading", .server(code: "LOADING", message: "LOADING Redis is loading")),
        ("", .server(code: "ERR", message: "")),
    ])
    func classifiesErrorReplies(_ text: String, expected: RedisError) {
        #expect(RedisError.fromErrorReply(text) == expected)
    }

    @Test func descriptionsAreReadable() {
        #expect(RedisError.timeout(endpoint: "h:1", operation: "read").description == "read timed out on h:1")
        #expect(RedisError.moved(slot: 5, endpoint: "h:2").description == "MOVED 5 h:2")
        #expect(RedisError.server(code: "ERR", message: "ERR boom").description == "ERR boom")
        #expect(RedisError.connectFailed(endpoint: "h:1", reason: "Connection refused").description
            == "cannot connect to h:1: Connection refused")
    }
}
