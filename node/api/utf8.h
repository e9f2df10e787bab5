/* utf8.h — strict UTF-8 validation of keys and values at the HTTP edge. */
#ifndef RAFTKV_UTF8_H
#define RAFTKV_UTF8_H

#include <stdbool.h>
#include <stddef.h>

/* True when p[0..len) is well-formed UTF-8: no overlong forms, no
 * surrogates, nothing above U+10FFFF, no truncated sequence. */
bool utf8_valid(const void *p, size_t len);

#endif
