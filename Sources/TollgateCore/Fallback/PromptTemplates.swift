import Foundation
import Mustache

/// The Mustache templates under `prompts/`: the answers of a route's `template:` fallback,
/// and the note put where a trimmed conversation lost turns. Parsed once when the rules
/// load, so a missing or broken template is a load-time error, never a failed request.
public struct PromptTemplates: Sendable {
    private let templates: [String: MustacheTemplate]
    public let directory: String

    /// No templates (a gateway without a `prompts/` directory).
    public init() {
        self.templates = [:]
        self.directory = "prompts"
    }

    /// Reads every `NAME.mustache` of `directory` (none when it does not exist).
    public static func load(directory: String) throws(ConfigError) -> PromptTemplates {
        var isDirectory: ObjCBool = false
        guard FileManager.default.fileExists(atPath: directory, isDirectory: &isDirectory) else { return PromptTemplates(directory: directory, templates: [:]) }
        guard isDirectory.boolValue, let names = try? FileManager.default.contentsOfDirectory(atPath: directory) else {
            throw ConfigError(file: directory, reason: "cannot read the prompts directory")
        }
        var templates: [String: MustacheTemplate] = [:]
        for name in names.sorted() where name.hasSuffix(".mustache") && !name.hasPrefix(".") {
            let path = (directory as NSString).appendingPathComponent(name)
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw ConfigError(file: path, reason: "cannot read the template")
            }
            templates[String(name.dropLast(".mustache".count))] = try Self.parse(text, file: path)
        }
        return PromptTemplates(directory: directory, templates: templates)
    }

    /// Parses one template; answers are plain text, so nothing is HTML-escaped.
    public static func parse(_ text: String, file: String) throws(ConfigError) -> MustacheTemplate {
        do {
            // Inline, so line numbers in errors stay the file's own.
            return try MustacheTemplate(string: "{{% CONTENT_TYPE: TEXT}}" + text)
        } catch let error as MustacheTemplate.ParserError {
            throw ConfigError(file: file, line: error.context.lineNumber, reason: "invalid template: \(error.error)")
        } catch {
            throw ConfigError(file: file, reason: "invalid template: \(error)")
        }
    }

    private init(directory: String, templates: [String: MustacheTemplate]) {
        self.directory = directory
        self.templates = templates
    }

    public var names: [String] { self.templates.keys.sorted() }

    public func contains(_ name: String) -> Bool { self.templates[name] != nil }

    /// The template of the note put where a trimmed conversation lost turns.
    public static let trimmedContext = "trimmed-context"

    /// The note for a trimmed conversation: `prompts/trimmed-context.mustache`, or this
    /// sentence when the directory has none.
    public func trimmedContextNote(_ context: TemplateContext) -> String {
        self.render(Self.trimmedContext, context: context)?.trimmingCharacters(in: .whitespacesAndNewlines)
            ?? "[\(context.droppedMessages ?? 0) earlier messages of this conversation were left out to fit the model's context window.]"
    }

    /// Renders `name` with `context`; nil when there is no such template.
    public func render(_ name: String, context: TemplateContext) -> String? {
        self.templates[name]?.render(context.values)
    }
}

/// What a template may say about the request it answers.
public struct TemplateContext: Sendable {
    /// The model the client asked for (or the alias).
    public var model: String
    public var route: String
    public var requestID: String
    /// Seconds a provider asked to wait, when one did.
    public var retryAfterSeconds: Int?
    /// The client's last user message, for templates that quote it.
    public var lastUserMessage: String?
    /// Why the chain ended here, in a few words (`the providers are overloaded`).
    public var reason: String?
    /// For the trimmed-context note: how many messages were left out.
    public var droppedMessages: Int?

    public init(
        model: String, route: String, requestID: String, retryAfterSeconds: Int? = nil, lastUserMessage: String? = nil,
        reason: String? = nil, droppedMessages: Int? = nil
    ) {
        self.model = model
        self.route = route
        self.requestID = requestID
        self.retryAfterSeconds = retryAfterSeconds
        self.lastUserMessage = lastUserMessage
        self.reason = reason
        self.droppedMessages = droppedMessages
    }

    /// The names templates use: `{{model}}`, `{{route}}`, `{{request_id}}`, `{{retry_after}}`,
    /// `{{last_user_message}}`, `{{reason}}`, `{{dropped_messages}}` (absent ones are empty
    /// and falsy in sections).
    var values: [String: Any] {
        var values: [String: Any] = ["model": self.model, "route": self.route, "request_id": self.requestID]
        if let retryAfterSeconds { values["retry_after"] = retryAfterSeconds }
        if let lastUserMessage { values["last_user_message"] = lastUserMessage }
        if let reason { values["reason"] = reason }
        if let droppedMessages { values["dropped_messages"] = droppedMessages }
        return values
    }
}
