import CHiredis

extension RedisReply {
    /// Copies a hiredis reply tree (the caller frees it with `freeReplyObject`).
    init(hiredis pointer: UnsafePointer<redisReply>) {
        let reply = pointer.pointee
        switch reply.type {
        case TG_REDIS_REPLY_STRING:
            self = .string(Self.bytes(reply.str, reply.len))
        case TG_REDIS_REPLY_STATUS:
            self = .status(String(decoding: Self.bytes(reply.str, reply.len), as: UTF8.self))
        case TG_REDIS_REPLY_INTEGER:
            self = .integer(Int64(reply.integer))
        case TG_REDIS_REPLY_NIL:
            self = .null
        case TG_REDIS_REPLY_ERROR:
            self = .error(String(decoding: Self.bytes(reply.str, reply.len), as: UTF8.self))
        case TG_REDIS_REPLY_ARRAY:
            var elements: [RedisReply] = []
            elements.reserveCapacity(reply.elements)
            for index in 0..<reply.elements {
                if let element = reply.element[index] {
                    elements.append(RedisReply(hiredis: element))
                } else {
                    elements.append(.null)
                }
            }
            self = .array(elements)
        default:
            // RESP3 types: only with HELLO 3 on hiredis 1.x, which this client never sends.
            self = .error("unsupported reply type \(reply.type)")
        }
    }

    private static func bytes(_ pointer: UnsafeMutablePointer<CChar>?, _ length: Int) -> [UInt8] {
        guard let pointer, length > 0 else { return [] }
        return pointer.withMemoryRebound(to: UInt8.self, capacity: length) {
            Array(UnsafeBufferPointer(start: $0, count: length))
        }
    }
}
