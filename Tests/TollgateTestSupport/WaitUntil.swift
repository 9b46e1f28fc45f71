/// Waits for a condition the code under test makes true, checking it every few milliseconds;
/// false once `deadline` passes. The deadline is a ceiling far above any real wait, not a
/// guess at how long the work takes: a test asserts the result, so giving up fails it.
public func waitUntil(within deadline: Duration = .seconds(60), _ condition: () async -> Bool) async -> Bool {
    let clock = ContinuousClock()
    let end = clock.now.advanced(by: deadline)
    while clock.now < end {
        if await condition() { return true }
        try? await Task.sleep(for: .milliseconds(5))
    }
    return await condition()
}
