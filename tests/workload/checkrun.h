/*
 * checkrun.h — --check: reads the finished history back from its file and
 * runs the linearizability checker (libcheck) on it in-process, so what is
 * judged is exactly what was written, then maps the verdict to this
 * program's exit code.
 */
#ifndef RAFTKV_WL_CHECKRUN_H
#define RAFTKV_WL_CHECKRUN_H

/* Checks history with a time limit (0 = none). Returns this program's exit
 * code: 0 linearizable, 1 not (the explanation goes to stdout), 3 when no
 * verdict was reached (unreadable history, gave up). *verdict gets a static
 * one-line description. */
int checkrun(const char *history, double timeout_s, const char **verdict);

#endif
