/*
 * log.h — the node's log lines: one line each, on stderr, prefixed with the
 * node id, so the agent can keep the file beside a test's history.
 */
#ifndef RAFTKV_SERVER_LOG_H
#define RAFTKV_SERVER_LOG_H

#include <stdint.h>

void log_set_node(uint32_t id);
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
