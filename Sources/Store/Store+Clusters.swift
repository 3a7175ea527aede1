import ClusterModel
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
                INSERT INTO clusters (id, seeds, username, password_sealed, tls, address_map, created_by, created_at, updated_at)
                VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
                """, cluster.id, seeds, cluster.username, try cluster.password.map { try secrets.seal($0, context: cluster.id) },
                try cluster.tls.map(Store.tlsText), try cluster.addressMap.map(Store.addressMapText), cluster.createdBy, cluster.createdAt, cluster.updatedAt)
            try Store.audit(db, actor: cluster.createdBy, action: "cluster.register", clusterId: cluster.id, at: cluster.createdAt)
        }
    }

    public func cluster(_ id: String) throws -> ClusterRecord? {
        try read { db in try db.query("SELECT * FROM clusters WHERE id = ?", id).first.map(cluster) }
    }

    public func clusters() throws -> [ClusterRecord] {
        try read { db in try db.query("SELECT * FROM clusters ORDER BY id").map(cluster) }
    }

    /// Deletes a registration unless one of its jobs is queued or running; its jobs and snapshots stay for audit,
    /// and the deletion itself is audited under `actor`.
    public func deleteCluster(_ id: String, actor: String = "anonymous") throws {
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
            try Store.audit(db, actor: actor, action: "cluster.delete", clusterId: id, at: Timestamp.now())
        }
    }

    func cluster(_ row: Row) throws -> ClusterRecord {
        let id = row.string("id") ?? ""
        let seedsText = row.string("seeds") ?? "[]"
        guard let seeds = try? JSONDecoder().decode([String].self, from: Data(seedsText.utf8)) else {
            throw StoreError.corruptRecord("seeds of cluster \(id)")
        }
        return ClusterRecord(id: id, seeds: seeds, username: row.string("username"),
                             password: try row.string("password_sealed").map { try secrets.open($0, context: id) },
                             tls: try Store.tls(row), addressMap: try Store.addressMap(row), createdBy: row.string("created_by") ?? "anonymous",
                             createdAt: row.string("created_at") ?? "", updatedAt: row.string("updated_at") ?? "")
    }

    /// The `tls` column: NULL for plain TCP, else the paths as JSON.
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
    /// Seals any password an older version stored in plain text, then makes sure no copy of it is left in the file:
    /// deleted content is zeroed (secure_delete) and the write-ahead log is checkpointed and truncated.
    func sealPlainPasswords() throws {
        let sealed = try write { db in
            let rows = try db.query("SELECT id, password FROM clusters WHERE password IS NOT NULL")
            for row in rows {
                let id = row.string("id") ?? ""
                try db.execute("UPDATE clusters SET password_sealed = ?, password = NULL WHERE id = ?",
                               try secrets.seal(row.string("password") ?? "", context: id), id)
            }
            return rows.count
        }
        if sealed > 0 {
            try read { db in
                try db.executeScript("VACUUM")
                _ = try db.query("PRAGMA wal_checkpoint(TRUNCATE)")
            }
        }
    }

    /// Every stored password must open with this key.
    func checkSealedPasswords() throws {
        let rows = try read { db in try db.query("SELECT id, password_sealed FROM clusters WHERE password_sealed IS NOT NULL") }
        for row in rows {
            let id = row.string("id") ?? ""
            do {
                _ = try secrets.open(row.string("password_sealed") ?? "", context: id)
            } catch {
                throw StoreError.secretKey("the password of cluster '\(id)' does not open with this secret key; start with the key file it was stored with")
            }
        }
    }
}

extension Store {
    public func updateSeeds(clusterId: String, seeds: [String]) throws {
        let text = String(decoding: try JSONEncoder().encode(seeds), as: UTF8.self)
        try write { db in
            try db.execute("UPDATE clusters SET seeds = ?, updated_at = ? WHERE id = ?", text, Timestamp.now(), clusterId)
        }
    }

    /// The `address_map` column: NULL when nodes are dialled as announced, else `{"nodes":{..},"rules":[..]}`.
    static func addressMapText(_ map: AddressMap) throws -> String {
        String(decoding: try JSONEncoder().encode(map), as: UTF8.self)
    }

    static func addressMap(_ row: Row) throws -> AddressMap? {
        guard let text = row.string("address_map") else { return nil }
        guard let map = try? JSONDecoder().decode(AddressMap.self, from: Data(text.utf8)) else {
            throw StoreError.corruptRecord("address_map of cluster \(row.string("id") ?? "?")")
        }
        return map
    }
}
