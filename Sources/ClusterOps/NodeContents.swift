import ClusterModel
import RESP

/// What a node that is about to join a cluster already holds. Only an empty node may join: keys would collide with
/// the cluster's, functions would shadow the cluster's libraries, known nodes mean it belongs to another cluster.
public struct NodeContents: Sendable, Equatable {
    public var keys: Int
    public var slots: Int
    /// Nodes it knows besides itself.
    public var knownNodes: Int
    /// Its function libraries, by name.
    public var libraries: [String]

    public var isEmpty: Bool { keys == 0 && slots == 0 && knownNodes == 0 && libraries.isEmpty }

    /// "12 keys, 2 function libraries (lib1, lib2) and 3 known nodes".
    public var description: String {
        var parts: [String] = []
        if keys > 0 { parts.append("\(keys) key\(keys == 1 ? "" : "s")") }
        if slots > 0 { parts.append("\(slots) slot\(slots == 1 ? "" : "s")") }
        if !libraries.isEmpty {
            parts.append("\(libraries.count) function librar\(libraries.count == 1 ? "y" : "ies") (\(libraries.joined(separator: ", ")))")
        }
        if knownNodes > 0 { parts.append("\(knownNodes) known node\(knownNodes == 1 ? "" : "s")") }
        guard let last = parts.popLast() else { return "nothing" }
        return parts.isEmpty ? last : parts.joined(separator: ", ") + " and " + last
    }
}

extension ClusterSession {
    /// What `address` holds, read now. `members` are ids the node may already know without holding anything of
    /// its own (the cluster it is joining, when a join is resumed).
    public func contents(of address: String, members: Set<String> = []) throws(ClusterOpsError) -> NodeContents {
        let view = try view(address)
        let others = view.nodes.filter { $0.id != view.myself.id && !members.contains($0.id) }
        let keys = try call(address, ["DBSIZE"], idempotent: true).int ?? 0
        return NodeContents(keys: Int(keys), slots: view.myself.slots.count, knownNodes: others.count,
                            libraries: try functionLibraries(address))
    }

    /// The names of the function libraries loaded on `address` (`FUNCTION LIST`); none on servers before 7.0.
    public func functionLibraries(_ address: String) throws(ClusterOpsError) -> [String] {
        let reply: RESPValue
        do {
            reply = try call(address, ["FUNCTION", "LIST"], idempotent: true)
        } catch .redis(_, .server(_, let message)) where message.lowercased().contains("unknown command") {
            return []
        }
        return (reply.array ?? []).compactMap { $0.fields?["library_name"]?.string }.sorted()
    }
}

/// Copies a master's function libraries to a node before it joins, as `redis-cli --cluster add-node` does
/// (`FUNCTION DUMP`, then `FUNCTION RESTORE … REPLACE`): a slot later moved to it must find the libraries its
/// `FCALL`s name. Safe to run again: the node may already hold the same libraries from an interrupted run, but
/// never one the source lacks.
public struct FunctionCopier {
    let session: ClusterSession
    let observer: any OperationObserver

    public init(session: ClusterSession, observer: any OperationObserver) {
        self.session = session
        self.observer = observer
    }

    public func copy(from source: String, to target: String) throws(ClusterOpsError) {
        let libraries = try session.functionLibraries(source)
        guard !libraries.isEmpty else { return }
        let present = try session.functionLibraries(target)
        let foreign = present.filter { !libraries.contains($0) }
        guard foreign.isEmpty else {
            throw .nodeNotEmpty("\(target) holds function libraries the cluster does not have (\(foreign.joined(separator: ", "))); only an empty node can be added")
        }
        guard let payload = try session.call(source, ["FUNCTION", "DUMP"], idempotent: true).bytes else {
            throw .failed("\(source) answered FUNCTION DUMP without a payload")
        }
        _ = try session.call(target, bytes: [Array("FUNCTION".utf8), Array("RESTORE".utf8), payload, Array("REPLACE".utf8)], idempotent: true)
        let copied = try session.functionLibraries(target)
        let missing = libraries.filter { !copied.contains($0) }
        guard missing.isEmpty else {
            throw .failed("\(target) does not list function libraries \(missing.joined(separator: ", ")) after FUNCTION RESTORE")
        }
        observer.event("copied \(libraries.count) function librar\(libraries.count == 1 ? "y" : "ies") (\(libraries.joined(separator: ", "))) from \(source) to \(target)",
                       node: target)
    }
}
