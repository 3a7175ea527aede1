import API
import EmbeddedResources
import Foundation
import Jobs
import Store
import Testing

/// One home per job kind: the registry, the routes and openapi.yaml must name the same kinds with the same fields.
@Suite struct JobKindSpecTests {
    let spec = EmbeddedResources.openAPISpec

    @Test func everyKindHasItsRouteAndItsSpecEntryWithTheSameFields() throws {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("kinds-\(UUID().uuidString).sqlite").path
        let api = APIService(store: try Store(path: path), log: { _ in })
        let routed = Set(api.router.routes.map { "\($0.method) \($0.pattern)" })
        #expect(JobKinds.all.count == Set(JobKinds.names).count, "two kinds share a name")
        for kind in JobKinds.all {
            let route = "/clusters/{id}/\(kind.name)"
            #expect(routed.contains("POST \(route)"), "kind \(kind.name) has no route")
            let schema = try #require(OpenAPIPaths.postBodySchema(path: route, in: spec), "openapi.yaml has no POST \(route) body")
            #expect(OpenAPIPaths.properties(ofSchema: schema, in: spec) == kind.fields.union(["dry_run"]).union(JobOptions.fields),
                    "\(schema) in openapi.yaml and \(kind.name)'s fields disagree")
        }
        #expect(OpenAPIPaths.enumValues(ofSchema: "JobType", in: spec) == JobKinds.names)
    }

    @Test func everyJobRouteInTheSpecIsAKind() {
        let nonJobs: Set<String> = ["snapshots"]
        let jobRoutes = OpenAPIPaths.operations(in: spec).compactMap { operation -> String? in
            let prefix = "POST /clusters/{id}/"
            guard operation.hasPrefix(prefix) else { return nil }
            let segment = String(operation.dropFirst(prefix.count))
            return nonJobs.contains(segment) ? nil : segment
        }
        #expect(Set(jobRoutes) == Set(JobKinds.names))
    }
}
