import Logging
import TollgateCore

/// Admission for a whole fallback chain: one claim, before the first attempt, of the worst
/// case of the dearest model the chain may reach. Every attempt then runs inside that
/// reservation (`AttemptLoop` checks what is left), so no retry or fallback can overspend a
/// budget, and a request counts once against rate limits however many attempts it takes.
struct ChainAdmission {
    let costs: CostControl
    let targets: AttemptTargets
    let defaultMaxTokens: Int

    /// The output cap every attempt gets: the route's, and for budgeted requests without
    /// `max_tokens` the default reservation (the provider must not write more than reserved).
    func caps(for routed: RoutedRequest, ingress: IngressRequest) -> RouteCaps {
        var caps = routed.decision.caps
        if caps.maxTokens == nil, ingress.routingView.outputTokenLimit == nil, routed.scopes.contains(where: { $0.limits.dailyBudget != nil }) {
            caps.maxTokens = self.costs.limits.defaultOutputReservation
        }
        return caps
    }

    func admit(
        _ routed: RoutedRequest, planner: FallbackPlanner, caps: RouteCaps, ingress: IngressRequest, requestID: String, logger: Logger
    ) async throws(GatewayError) -> CostTicket {
        let requested = caps.outputTokenLimit(requested: ingress.routingView.outputTokenLimit)
        var dearest: (price: ModelPrice, output: Int?, cost: USD)?
        for stage in planner.stages {
            let price = try self.costs.price(for: stage.model)
            // What the plan will send: Anthropic needs max_tokens and gets the default.
            let output = requested ?? (self.targets.providerKind(of: stage.model) == .anthropic ? self.defaultMaxTokens : nil)
            let cost = price.worstCaseCost(
                inputTokens: routed.features.promptTokens, maxOutputTokens: output ?? self.costs.limits.defaultOutputReservation
            )
            if dearest == nil || cost > dearest!.cost { dearest = (price, output, cost) }
        }
        let chosen = dearest!
        let first = try self.costs.price(for: planner.stages[0].model)
        let ticket = try await self.costs.admit(
            requestID: requestID, scopes: routed.scopes, budgetDays: routed.budgetDays, price: chosen.price,
            inputTokens: routed.features.promptTokens, maxOutputTokens: chosen.output, logger: logger
        )
        // Priced per attempt (`RequestObservation`); the ticket's price is the first target's.
        return CostTicket(claim: ticket.claim, grant: ticket.grant, price: first)
    }
}
