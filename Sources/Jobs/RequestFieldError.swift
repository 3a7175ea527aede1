/// A request body that is malformed or names a field wrongly: the API's 400, with a message naming the field.
public struct RequestFieldError: Error, Sendable, Equatable, CustomStringConvertible {
    public var message: String

    public init(_ message: String) {
        self.message = message
    }

    public var description: String { message }
}
