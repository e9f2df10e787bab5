/*
 * commands.h — the commands of an interaction script (README.md lists them).
 */
#ifndef RAFTKV_INTERACTION_COMMANDS_H
#define RAFTKV_INTERACTION_COMMANDS_H

#include "env.h"

/* Runs one command line against e, writing its output to e->out. Unknown
 * commands and bad arguments print "error: ..." (which then differs from
 * the expected output, so the script fails). */
void command_run(env *e, const char *line);

#endif
