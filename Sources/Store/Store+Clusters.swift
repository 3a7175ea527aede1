import Foundation
import SQLite

extension Store {
    public func insertCluster(_ cluster: ClusterRecord) throws {
        let seeds = String(decoding: try JSONEncoder().encode(cluster.seeds), as: UTF8.self)
        try write { db in
            guard try db.query("SELECT 1 FROM clusters WHERE id = ?", cluster.id).isEmpty else {
                throw StoreError.clusterExists(cluster.id)
            }
            try db.execute("""
                INSERT INTO clusters (id, seeds, username, password, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?)
                """, cluster.id, seeds, cluster.username, cluster.password, cluster.createdAt, cluster.updatedAt)
            if let tls = cluster.tls {
                try db.execute("UPDATE clusters SET tls = ? WHERE id = ?", try Store.tlsText(tls), cluster.id)
            }
        }
    }

    public func cluster(_ id: String) throws -> ClusterRecord? {
        try read { db in try db.query("SELECT * FROM clusters WHERE id = ?", id).first.map(Store.cluster) }
    }

    public func clusters() throws -> [ClusterRecord] {
        try read { db in try db.query("SELECT * FROM clusters ORDER BY id").map(Store.cluster) }
    }

    /// Deletes a registration unless one of its jobs is queued or running; its jobs and snapshots stay for audit.
    public func deleteCluster(_ id: String) throws {
        try write { db in
            guard try !db.query("SELECT 1 FROM clusters WHERE id = ?", id).isEmpty else {
                throw StoreError.clusterNotFound(id)
            }
            if let active = try db.query("""
                SELECT id FROM jobs WHERE cluster_id = ? AND status IN ('queued','running') ORDER BY id LIMIT 1
                """, id).first?.int("id") {
                throw StoreError.clusterBusy(cluster: id, job: active)
            }
            try db.execute("DELETE FROM clusters WHERE id = ?", id)
        }
    }

    static func cluster(_ row: Row) throws -> ClusterRecord {
        let seedsText = row.string("seeds") ?? "[]"
        guard let seeds = try? JSONDecoder().decode([String].self, from: Data(seedsText.utf8)) else {
            throw StoreError.corruptRecord("seeds of cluster \(row.string("id") ?? "?")")
        }
        var record = ClusterRecord(id: row.string("id") ?? "", seeds: seeds, username: row.string("username"),
                                   password: row.string("password"), createdAt: row.string("created_at") ?? "",
                                   updatedAt: row.string("updated_at") ?? "")
        record.tls = try tls(row)
        return record
    }

    /// The `tls` column: NULL for plain TCP, else the paths as JSON (written by its own statement in `insertCluster`,
    /// in the same transaction, so the insert itself stays about the credentials).
    static func tlsText(_ tls: ClusterTLS) throws -> String {
        String(decoding: try JSONEncoder().encode(tls), as: UTF8.self)
    }

    static func tls(_ row: Row) throws -> ClusterTLS? {
        guard let text = row.string("tls") else { return nil }
        guard let tls = try? JSONDecoder().decode(ClusterTLS.self, from: Data(text.utf8)) else {
            throw StoreError.corruptRecord("tls of cluster \(row.string("id") ?? "?")")
        }
        return tls
    }
}

extension Store {
    public func updateSeeds(clusterId: String, seeds: [String]) throws {
        let text = String(decoding: try JSONEncoder().encode(seeds), as: UTF8.self)
        try write { db in
            try db.execute("UPDATE clusters SET seeds = ?, updated_at = ? WHERE id = ?", text, Timestamp.now(), clusterId)
        }
    }
}
