/// Files compiled into the binary by the EmbedResources build plugin: `openAPISpec` (the repository's
/// `openapi.yaml`), `page` (this directory's `page.html`, served at `/`) and `migrationFiles` (the repository's
/// `migrations/*.sql`, sorted by name).
public enum EmbeddedResources {}
