extension HTTPHeaders {
    /// Whether a `name` field lists `token` in its comma-separated value, ignoring case (`Connection: close`).
    func contains(token: String, in name: String) -> Bool {
        values(name).contains { value in
            value.split(separator: ",").contains { Self.sameName(String($0.trimmingOWS), token) }
        }
    }
}
