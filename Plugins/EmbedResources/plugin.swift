import Foundation
import PackagePlugin

/// Compiles `openapi.yaml`, `migrations/*.sql` and the page (`Sources/EmbeddedResources/page.html`) into the
/// binary, so a deployed executable serves the spec and the page and migrates its database without any files beside
/// it, and the repository keeps one copy of each.
@main
struct EmbedResources: BuildToolPlugin {
    func createBuildCommands(context: PluginContext, target: any Target) throws -> [Command] {
        let root = context.package.directoryURL
        let spec = root.appending(path: "openapi.yaml")
        let page = root.appending(path: "Sources/EmbeddedResources/page.html")
        let migrations = try FileManager.default
            .contentsOfDirectory(at: root.appending(path: "migrations"), includingPropertiesForKeys: nil)
            .filter { $0.pathExtension == "sql" }
            .sorted { $0.lastPathComponent < $1.lastPathComponent }
        let output = context.pluginWorkDirectoryURL.appending(path: "EmbeddedResources+Generated.swift")
        return [.buildCommand(
            displayName: "Embedding openapi.yaml, the page and \(migrations.count) migrations",
            executable: try context.tool(named: "embed-resources").url,
            arguments: [output.path, spec.path, page.path] + migrations.map(\.path),
            inputFiles: [spec, page] + migrations,
            outputFiles: [output]
        )]
    }
}
