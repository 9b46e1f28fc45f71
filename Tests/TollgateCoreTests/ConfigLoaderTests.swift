import Foundation
import Testing
@testable import TollgateCore

@Suite struct ConfigLoaderTests {
    let minimal = """
        providers:
          openai:
            kind: openai
            base_url: ${OPENAI_BASE_URL:-https://api.openai.com/v1}
            api_key_env: OPENAI_API_KEY
        models:
          - { name: gpt-4o, provider: openai }
          - { pattern: "gpt-5*", provider: openai }
        """

    @Test func decodesDefaultsAndEnvironment() throws {
        let config = try ConfigLoader.decode(GatewayConfig.self, yaml: minimal, file: "t.yaml", environment: ["OPENAI_BASE_URL": "http://127.0.0.1:9/v1/"])
        #expect(config.server.port == 8080)
        #expect(config.server.host == "127.0.0.1")
        #expect(config.providers["openai"]?.baseURL == "http://127.0.0.1:9/v1")
        #expect(config.dataDirectory == "data")
        let defaulted = try ConfigLoader.decode(GatewayConfig.self, yaml: minimal, file: "t.yaml", environment: [:])
        #expect(defaulted.providers["openai"]?.baseURL == "https://api.openai.com/v1")
    }

    @Test func shippedConfigIsValid() throws {
        let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let config = try ConfigLoader.load(GatewayConfig.self, file: root.appendingPathComponent("tollgate.yaml").path, environment: [:])
        let registry = ProviderRegistry(config: config, environment: [:])
        for model in ["gpt-5.1", "gpt-5-mini-2025-08-07", "gpt-4.1", "gpt-4o-2024-08-06", "o3-mini", "o4-mini", "text-embedding-3-large"] {
            #expect(registry.resolve(model: model)?.providerName == "openai", "\(model)")
        }
        #expect(registry.resolve(model: "text-embedding-3-small")?.kind == .embedding)
        #expect(registry.resolve(model: "llama-3") == nil)
        #expect(registry.providers["openai"]?.unavailableReason?.contains("OPENAI_API_KEY") == true)
        for model in ["claude-opus-4-5", "claude-sonnet-4-5-20250929", "claude-haiku-4-5", "claude-opus-4-1", "claude-sonnet-4-7"] {
            #expect(registry.resolve(model: model)?.providerName == "anthropic", "\(model)")
        }
        #expect(config.providers["anthropic"]?.kind == .anthropic)
        #expect(config.providers["anthropic"]?.baseURL == "https://api.anthropic.com")
        #expect(registry.providers["anthropic"]?.unavailableReason?.contains("ANTHROPIC_API_KEY") == true)
        #expect(config.translation == TranslationConfig(dropUnsupported: false, defaultMaxTokens: 4096))
    }

    @Test func providerKindsAndTranslationSettings() throws {
        let yaml = """
            providers:
              claude: { kind: anthropic, base_url: "http://127.0.0.1:9/", api_key_env: K, anthropic_version: "2024-01-01" }
              azure: { kind: azure-openai, base_url: "https://res.openai.azure.com", api_key_env: K, api_version: "2025-01-01-preview" }
            translation: { drop_unsupported: true, default_max_tokens: 1000 }
            """
        let config = try ConfigLoader.decode(GatewayConfig.self, yaml: yaml, file: "t.yaml", environment: [:])
        #expect(config.providers["claude"]?.anthropicVersion == "2024-01-01")
        #expect(config.providers["claude"]?.baseURL == "http://127.0.0.1:9")
        #expect(config.providers["azure"]?.apiVersion == "2025-01-01-preview")
        #expect(config.translation == TranslationConfig(dropUnsupported: true, defaultMaxTokens: 1000))

        let withV1 = "providers:\n  claude: { kind: anthropic, base_url: \"https://api.anthropic.com/v1\" }\n"
        let v1Error = try #require(throws: ConfigError.self) {
            try ConfigLoader.decode(GatewayConfig.self, yaml: withV1, file: "t.yaml", environment: [:])
        }
        #expect(v1Error.key == "providers.claude.base_url")
        let wrongKind = "providers:\n  o: { kind: openai, base_url: \"https://a/v1\", api_version: \"x\" }\n"
        #expect(throws: ConfigError.self) {
            try ConfigLoader.decode(GatewayConfig.self, yaml: wrongKind, file: "t.yaml", environment: [:])
        }
        let embeddings = "providers:\n  c: { kind: anthropic, base_url: \"https://a\" }\nmodels:\n  - { name: e, provider: c, kind: embedding }\n"
        #expect(throws: ConfigError.self) {
            try ConfigLoader.decode(GatewayConfig.self, yaml: embeddings, file: "t.yaml", environment: [:])
        }
    }

    @Test func unknownKeyNamesFileLineAndKey() {
        let yaml = """
            server:
              port: 8080
              prot: 9
            """
        #expect(throws: ConfigError(file: "t.yaml", line: 3, key: "server.prot", reason: "unknown key 'prot' (allowed: host, port, max_body_bytes, shutdown_grace_period, idle_timeout, max_connections)")) {
            try ConfigLoader.decode(GatewayConfig.self, yaml: yaml, file: "t.yaml", environment: [:])
        }
    }

    @Test func wrongTypeAndBadValuesAreReported() throws {
        let wrongType = "server:\n  port: eighty\n"
        let error = try #require(throws: ConfigError.self) {
            try ConfigLoader.decode(GatewayConfig.self, yaml: wrongType, file: "t.yaml", environment: [:])
        }
        #expect(error.line == 2)
        #expect(error.key == "server.port")

        let unknownProvider = minimal + "\n  - { name: claude, provider: anthropic }\n"
        let providerError = try #require(throws: ConfigError.self) {
            try ConfigLoader.decode(GatewayConfig.self, yaml: unknownProvider, file: "t.yaml", environment: [:])
        }
        #expect(providerError.key == "models[2].provider")
        #expect(providerError.reason.contains("unknown provider 'anthropic'"))
        #expect(providerError.line == 9)

        let badURL = "providers:\n  x:\n    kind: openai\n    base_url: ftp://nope\n"
        let urlError = try #require(throws: ConfigError.self) {
            try ConfigLoader.decode(GatewayConfig.self, yaml: badURL, file: "t.yaml", environment: [:])
        }
        #expect(urlError.key == "providers.x.base_url")
        #expect(urlError.line == 4)

        let reserved = "providers:\n  x:\n    kind: openai\n    base_url: http://a/v1\n    headers: { Authorization: secret }\n"
        #expect(throws: ConfigError.self) {
            try ConfigLoader.decode(GatewayConfig.self, yaml: reserved, file: "t.yaml", environment: [:])
        }
    }

    @Test func invalidYAMLHasALine() throws {
        let error = try #require(throws: ConfigError.self) {
            try ConfigLoader.decode(GatewayConfig.self, yaml: "server:\n  port: [1,\n", file: "t.yaml", environment: [:])
        }
        #expect(error.reason.hasPrefix("invalid YAML"))
        #expect(error.line != nil)
    }

    @Test func missingFileIsAConfigError() {
        #expect(throws: ConfigError.self) {
            try ConfigLoader.load(GatewayConfig.self, file: "/nonexistent/tollgate.yaml", environment: [:])
        }
    }
}

@Suite struct ConfigValueTests {
    @Test(arguments: [
        ("250ms", Duration.milliseconds(250)), ("10s", .seconds(10)), ("2m", .seconds(120)), ("1h", .seconds(3600)),
        ("1.5s", .milliseconds(1500)), ("30", .seconds(30)),
    ])
    func durations(text: String, expected: Duration) {
        #expect(ConfigDuration.parse(text) == expected)
    }

    @Test(arguments: ["", "abc", "-1s", "10x", "s"])
    func badDurations(text: String) {
        #expect(ConfigDuration.parse(text) == nil)
    }

    @Test func interpolation() throws {
        let env = ["A": "1", "EMPTY": ""]
        #expect(try EnvironmentInterpolation.apply(to: "x=${A} y=${B:-two} z=${EMPTY:-d} w=${B}", environment: env) == "x=1 y=two z=d w=")
        #expect(throws: EnvironmentInterpolation.InterpolationError.self) {
            try EnvironmentInterpolation.apply(to: "${A", environment: env)
        }
        #expect(throws: EnvironmentInterpolation.InterpolationError.self) {
            try EnvironmentInterpolation.apply(to: "${A B}", environment: env)
        }
    }

    @Test func globs() {
        #expect(GlobPattern("gpt-5*").matches("gpt-5-mini"))
        #expect(GlobPattern("gpt-5*").matches("gpt-5"))
        #expect(!GlobPattern("gpt-5*").matches("gpt-4o"))
        #expect(GlobPattern("*-mini").matches("gpt-5-mini"))
        #expect(GlobPattern("claude-*-4*").matches("claude-sonnet-4-5"))
        #expect(!GlobPattern("claude-*-4*").matches("claude-3-haiku"))
        #expect(GlobPattern("exact").matches("exact"))
        #expect(!GlobPattern("exact").matches("exactly"))
        #expect(GlobPattern("*").matches("anything"))
    }
}
