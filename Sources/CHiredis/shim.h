#ifndef TOLLGATE_CHIREDIS_SHIM_H
#define TOLLGATE_CHIREDIS_SHIM_H

// hiredis 0.14 (Debian 12) and 1.x both work: only the synchronous context, the reply
// reader and RESP2 reply types are used, which the two share.
#include <hiredis/hiredis.h>
#include <fcntl.h>

// MARK: - Constants (macros Swift may not import)

static const int TG_REDIS_OK = REDIS_OK;
static const int TG_REDIS_ERR = REDIS_ERR;

static const int TG_REDIS_REPLY_STRING = REDIS_REPLY_STRING;
static const int TG_REDIS_REPLY_ARRAY = REDIS_REPLY_ARRAY;
static const int TG_REDIS_REPLY_INTEGER = REDIS_REPLY_INTEGER;
static const int TG_REDIS_REPLY_NIL = REDIS_REPLY_NIL;
static const int TG_REDIS_REPLY_STATUS = REDIS_REPLY_STATUS;
static const int TG_REDIS_REPLY_ERROR = REDIS_REPLY_ERROR;

// MARK: - Context

/// Switches a connected, blocking context to non-blocking I/O. The connect and the
/// handshake (AUTH, SELECT, PING) run blocking with socket timeouts; after that the
/// client's loop thread waits for readiness itself with poll(2), so that it can enforce
/// per-command deadlines and take new commands while replies are outstanding. hiredis
/// treats EAGAIN as "try again later" only when REDIS_BLOCK is clear, hence the flag.
/// Returns 0, or -1 with errno set.
static inline int tg_redis_set_nonblocking(redisContext *context) {
    int flags = fcntl(context->fd, F_GETFL);
    if (flags == -1) return -1;
    if (fcntl(context->fd, F_SETFL, flags | O_NONBLOCK) == -1) return -1;
    context->flags &= ~REDIS_BLOCK;
    return 0;
}

// MARK: - Loop thread


#endif
