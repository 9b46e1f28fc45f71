/// First-in first-out queue of the requests sent on a connection, in send order.
/// Loop-confined; amortised O(1) at both ends.
struct RequestQueue {
    private var items: [RedisRequest?] = []
    private var head = 0

    var isEmpty: Bool { self.head == self.items.count }
    var count: Int { self.items.count - self.head }
    var first: RedisRequest? { self.isEmpty ? nil : self.items[self.head] }

    mutating func append(_ request: RedisRequest) {
        self.items.append(request)
    }

    mutating func removeFirst() -> RedisRequest {
        precondition(!self.isEmpty, "removeFirst on an empty RequestQueue")
        let request = self.items[self.head]!
        self.items[self.head] = nil
        self.head += 1
        if self.head == self.items.count {
            self.items.removeAll(keepingCapacity: true)
            self.head = 0
        } else if self.head >= 1024, self.head * 2 >= self.items.count {
            self.items.removeFirst(self.head)
            self.head = 0
        }
        return request
    }

    /// Empties the queue and returns what was in it, oldest first.
    mutating func removeAll() -> [RedisRequest] {
        let rest = self.items[self.head...].map { $0! }
        self.items.removeAll(keepingCapacity: true)
        self.head = 0
        return rest
    }
}
