import Foundation

/// Reads a job's stored params back into `JobParams`, using its type to pick the shape.
public enum StoredParams {
    public static func decode(type: JobType, text: String) throws -> JobParams {
        try JSONDecoder().decode(Wrapper.self, from: Data(#"{"type":"\#(type.rawValue)","params":\#(text)}"#.utf8)).params
    }

    private struct Wrapper: Decodable {
        var params: JobParams

        enum Key: String, CodingKey { case type, params }

        init(from decoder: any Decoder) throws {
            let container = try decoder.container(keyedBy: Key.self)
            let type = try container.decode(JobType.self, forKey: .type)
            params = try JobParams.decode(type: type, from: try container.superDecoder(forKey: .params))
        }
    }
}
