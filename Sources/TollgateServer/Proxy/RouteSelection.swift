import Foundation
import HTTPTypes
import TollgateCore

/// A request after routing: who it counts against and what the rules decided.
struct RoutedRequest: Sendable {
    var decision: RouteDecision
    var features: RequestFeatures
    var scopes: [QuotaScope]
    var budgetDays: [BudgetDay?]
    var user: String?
    /// The request's `RecordedFeatures` for the ledger, when it keeps one.
    var record: String?
}

/// The first stage of a chat request: checks the model and the key, reads the request's
/// features (tokens, tags, budget use) and lets the routing rules decide.
struct RouteSelection {
    let rules: CompiledRoutingRules
    let providers: ProviderRegistry
    let costs: CostControl
    let tokenizers: Tokenizers?
    let timeZone: TimeZone
    /// Whether requests get a ledger row, and so a record of their features for replay.
    let recordsFeatures: Bool

    func route(_ ingress: IngressRequest, key: GatewayKey, headers: HTTPFields) throws(GatewayError) -> RoutedRequest {
        let requestedModel = try ClientIdentifier.check(ingress.model, param: "model")
        guard self.rules.isAlias(requestedModel) || self.providers.resolve(model: requestedModel)?.kind == .chat else {
            throw GatewayError.modelNotFound(requestedModel)
        }
        // The key must allow what the app asked for; the models the ops' rules pick for an
        // alias, a downgrade or a fallback are the operator's decision.
        guard key.allows(model: requestedModel) else { throw GatewayError.modelNotAllowed(requestedModel) }
        let tags: RoutingTags
        do {
            tags = try RoutingTags.parse(headerValues: headers[values: .tollgateTag])
        } catch {
            throw GatewayError.invalidRequest("Invalid X-Tollgate-Tag header: \(error.reason)")
        }
        let user = try ClientIdentifier.endUser(boundTo: key.user, claims: ingress.userClaims)
        let scopes = self.costs.scopes(key: key, user: user)
        let budgetDays = self.costs.budgetDays(for: scopes)
        // Looked up only when a rule reads it.
        let budgetUsed = self.rules.readsBudgetUsedPercent ? self.costs.budgetUsedPercent(scopes, days: budgetDays) : nil
        let features = RequestFeatures(
            request: ingress.routingView, key: key, endUser: user, tags: tags, timeZone: self.timeZone,
            budgetUsedPercent: budgetUsed, tokenizers: self.tokenizers
        )
        guard self.recordsFeatures else {
            return RoutedRequest(decision: self.rules.evaluate(features), features: features, scopes: scopes, budgetDays: budgetDays, user: user)
        }
        let (decision, record) = self.rules.evaluateRecording(features, budgetKnown: self.rules.readsBudgetUsedPercent)
        return RoutedRequest(decision: decision, features: features, scopes: scopes, budgetDays: budgetDays, user: user, record: record)
    }
}
