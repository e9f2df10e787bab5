/*
 * script.h — runs one interaction script and compares (or rewrites) the
 * expected output written in it.
 */
#ifndef RAFTKV_INTERACTION_SCRIPT_H
#define RAFTKV_INTERACTION_SCRIPT_H

#include <stdbool.h>

/* Returns 0 when every command printed what the script expects (or, with
 * rewrite, after writing the actual output back into the file); 1 when
 * something differs (a unified diff is printed); 2 when the file cannot be
 * read or written or is malformed. */
int script_run(const char *path, bool rewrite);

#endif
