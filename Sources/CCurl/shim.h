#ifndef TOLLGATE_CCURL_SHIM_H
#define TOLLGATE_CCURL_SHIM_H

// The wrappers below pass option values with the right C type themselves, so
// curl's GCC type-check macros add nothing (and they hide the real functions).
#define CURL_DISABLE_TYPECHECK 1
#include <curl/curl.h>

// Swift cannot call C variadic functions, and it does not import function-like
// or composite macros. These typed `static inline` wrappers and constants give
// Swift what it needs (the same approach as GRDB's GRDBSQLite/shim.h).

// MARK: - Constants

static const long TG_CURL_GLOBAL_ALL = CURL_GLOBAL_ALL;
static const int TG_CURLPAUSE_CONT = CURLPAUSE_CONT;
static const size_t TG_CURL_WRITEFUNC_PAUSE = CURL_WRITEFUNC_PAUSE;
static const int TG_CURL_ERROR_SIZE = CURL_ERROR_SIZE;

// MARK: - curl_easy_setopt

static inline CURLcode tg_curl_easy_setopt_long(CURL *handle, CURLoption option, long value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode tg_curl_easy_setopt_off_t(CURL *handle, CURLoption option, curl_off_t value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode tg_curl_easy_setopt_ptr(CURL *handle, CURLoption option, void *value) {
    return curl_easy_setopt(handle, option, value);
}

/// libcurl copies string options (since 7.17.0), so `value` only needs to live for the call.
static inline CURLcode tg_curl_easy_setopt_string(CURL *handle, CURLoption option, const char *value) {
    return curl_easy_setopt(handle, option, value);
}

static inline CURLcode tg_curl_easy_setopt_slist(CURL *handle, CURLoption option, struct curl_slist *value) {
    return curl_easy_setopt(handle, option, value);
}

/// For CURLOPT_WRITEFUNCTION and CURLOPT_HEADERFUNCTION (both take this signature).
static inline CURLcode tg_curl_easy_setopt_write_callback(CURL *handle, CURLoption option, curl_write_callback value) {
    return curl_easy_setopt(handle, option, value);
}

// MARK: - curl_easy_getinfo

static inline CURLcode tg_curl_easy_getinfo_long(CURL *handle, CURLINFO info, long *value) {
    return curl_easy_getinfo(handle, info, value);
}

static inline CURLcode tg_curl_easy_getinfo_ptr(CURL *handle, CURLINFO info, void **value) {
    return curl_easy_getinfo(handle, info, value);
}

// MARK: - curl_multi_setopt

static inline CURLMcode tg_curl_multi_setopt_long(CURLM *multi, CURLMoption option, long value) {
    return curl_multi_setopt(multi, option, value);
}

// MARK: - Loop thread


// MARK: - CURLMsg

/// The result code of a CURLMSG_DONE message (a member of an anonymous union in C).
static inline CURLcode tg_curl_msg_result(const CURLMsg *message) {
    return message->data.result;
}

#endif
