import Testing
import RESP

@Suite struct RedisCredentialsTests {
    @Test func renderingsHideThePassword() {
        let credentials = RedisCredentials(username: "alice", password: "s3cr3t-pw")
        var dumped = ""
        dump(credentials, to: &dumped)
        for text in [credentials.description, String(reflecting: credentials), "\(credentials)", dumped] {
            #expect(!text.contains("s3cr3t-pw"), "\(text)")
            #expect(text.contains("alice"), "\(text)")
        }
    }
}
