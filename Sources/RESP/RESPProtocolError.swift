/// The byte stream is not valid RESP; the stream cannot be resynchronised after this.
public struct RESPProtocolError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}
