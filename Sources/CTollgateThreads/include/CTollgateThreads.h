#ifndef C_TOLLGATE_THREADS_H
#define C_TOLLGATE_THREADS_H

#include <pthread.h>
#include <signal.h>

/// Blocks SIGPIPE on the calling thread: a write(2) to a socket the peer closed then fails
/// with EPIPE instead of killing the process. Only this thread changes.
static inline void tg_thread_block_sigpipe(void) {
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &set, NULL);
}

#if defined(__linux__)
#include <sys/prctl.h>
/// Names the calling thread (shown by top -H, perf, gdb). Glibc's pthread_setname_np is not
/// visible to Swift without _GNU_SOURCE, and prctl is variadic.
static inline void tg_thread_set_name(const char *name) {
    prctl(PR_SET_NAME, (unsigned long)name, 0UL, 0UL, 0UL);
}
#endif

#endif
