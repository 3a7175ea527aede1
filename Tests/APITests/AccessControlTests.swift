import API
import Foundation
import HTTPServer
import Store
import Testing

/// The tokens file and the role each route needs, in-process: no socket, no cluster.
@Suite struct AccessControlTests {
    static let tokens = """
        # comment, then a blank line

        viewer read read-token-0123456789
        deployer operator operator-token-0123
        \troot\tadmin   admin-token-0123456789\r
        """

    @Test func parsesNamesRolesAndTokensAndFindsTheRightOne() throws {
        let table = try TokenTable(text: Self.tokens)
        #expect(table.count == 3)
        #expect(table.principal(for: "read-token-0123456789") == Principal(name: "viewer", role: .read))
        #expect(table.principal(for: "operator-token-0123") == Principal(name: "deployer", role: .operator))
        #expect(table.principal(for: "admin-token-0123456789") == Principal(name: "root", role: .admin))
        #expect(table.principal(for: "admin-token-012345678") == nil)
        #expect(table.principal(for: "") == nil)
        #expect(Role.read < Role.operator && Role.operator < Role.admin)
    }

    @Test(arguments: [
        ("a read", "line 1: expected NAME ROLE TOKEN"),
        ("a root token-0123456789abcdef", "line 1: ROLE must be read, operator or admin"),
        ("a read short", "line 1: TOKEN must be 16"),
        ("bad/name read token-0123456789abcdef", "line 1: NAME must be"),
        ("a read token-0123456789abcdef\na admin token-0123456789abcdeX", "line 2: NAME 'a' is already used"),
        ("a read token-0123456789abcdef\nb admin token-0123456789abcdef", "line 2: the TOKEN repeats"),
        ("# nothing\n\n", "the file has no tokens"),
    ])
    func refusesABadFileNamingTheLineNeverTheToken(text: String, message: String) {
        do {
            _ = try TokenTable(text: text)
            Issue.record("accepted: \(text)")
        } catch {
            #expect(error.description.hasPrefix(message) || error.description.contains(message), "\(error.description)")
            #expect(!error.description.contains("token-0123456789abcdef"))
        }
    }

    /// Every route with every role: 401 without a token, 403 below the route's role, and past the guard at or above it.
    @Test func eachRouteNeedsItsRole() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("api-access-\(UUID().uuidString).sqlite").path
        defer { for suffix in ["", "-wal", "-shm", ".key"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        let api = APIService(store: try Store(path: path), access: AccessControl(tokens: try TokenTable(text: Self.tokens)),
                             log: { _ in })
        let tokens: [Role: String] = [.read: "read-token-0123456789", .operator: "operator-token-0123", .admin: "admin-token-0123456789"]
        func status(_ method: String, _ target: String, token: String?) -> Int {
            var headers = HTTPHeaders([("Host", "localhost")])
            if let token { headers.add("Authorization", "Bearer \(token)") }
            if method == "POST" { headers.add("Content-Type", "application/json") }
            let request = HTTPRequest(method: method, target: target, version: "HTTP/1.1", headers: headers,
                                      body: method == "POST" ? Array("{}".utf8) : [])
            return api.handler(request).status
        }
        for route in api.router.routes {
            let target = route.pattern.replacingOccurrences(of: "{id}", with: "1").replacingOccurrences(of: "{sid}", with: "1")
            if route.pattern == "/healthz" || route.pattern == "/" {
                #expect(status(route.method, target, token: nil) == 200)
                continue
            }
            let needed: Role = route.method == "GET" ? .read
                : (route.pattern == "/clusters" || route.method == "DELETE" || route.pattern.hasSuffix("/call")) ? .admin : .operator
            #expect(status(route.method, target, token: nil) == 401, "\(route.method) \(route.pattern)")
            #expect(status(route.method, target, token: "wrong-token-0123456789") == 401, "\(route.method) \(route.pattern)")
            for role in Role.allCases {
                let got = status(route.method, target, token: tokens[role])
                if role < needed {
                    #expect(got == 403, "\(route.method) \(route.pattern) as \(role.name)")
                } else {
                    #expect(got != 401 && got != 403, "\(route.method) \(route.pattern) as \(role.name): \(got)")
                }
            }
        }
    }
}
