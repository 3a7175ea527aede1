import ClusterModel
import ClusterOps

/// The function libraries a plan copies to a joining node, and from which master.
public struct FunctionCopy: Sendable, Equatable, Codable {
    public var from: String
    public var libraries: [String]
}

/// What a plan checks of a node that is to join (add-node, replace-node) before anything changes: it must be empty,
/// and it receives the cluster's function libraries, as redis-cli's add-node gives them.
enum JoiningNode {
    /// Throws `node_not_empty` naming what `address` holds; returns the libraries to copy and their source (a
    /// reachable master that has any), or nil when the cluster has none. Without a connection (plans made from a
    /// stored topology alone) nothing is read.
    static func inspect(_ address: String, in topology: ClusterTopology, access: ClusterAccess?) throws(ClusterOpsError) -> FunctionCopy? {
        guard let access else { return nil }
        let session = ClusterSession(access: access)
        defer { session.close() }
        let held = try session.contents(of: address)
        guard held.isEmpty else {
            throw .nodeNotEmpty("\(address) holds \(held.description); only an empty node can be added (redis-cli refuses it too)")
        }
        for master in topology.masters where master.reachable && !master.flags.contains("fail") {
            guard let libraries = try? session.functionLibraries(master.address) else { continue }
            return libraries.isEmpty ? nil : FunctionCopy(from: master.address, libraries: libraries)
        }
        return nil
    }

    /// The dry run's words for it: "; copies 2 function libraries (a, b) from 10.0.0.1:6379".
    static func summary(_ copy: FunctionCopy?) -> String {
        guard let copy else { return "" }
        return "; copies \(copy.libraries.count) function librar\(copy.libraries.count == 1 ? "y" : "ies") (\(copy.libraries.joined(separator: ", "))) from \(copy.from)"
    }
}
