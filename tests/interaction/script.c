/*
 * script.c — the file format of the interaction scripts (see README.md):
 *
 *   # comments and blank lines, kept as they are
 *   command args...
 *   ----
 *   expected output, up to the next blank line
 *
 * The runner executes every command in order, then rebuilds the whole file
 * with the actual output in place of the expected one. If the rebuilt text
 * differs from the file, the script fails and `diff -u` shows where; with
 * --rewrite the rebuilt text replaces the file instead.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "commands.h"
#include "env.h"
#include "script.h"

typedef struct text {
	char *buf;
	size_t len;
} text;

static int read_file(const char *path, text *t)
{
	FILE *f = fopen(path, "r");
	if (f == NULL) {
		perror(path);
		return -1;
	}
	t->buf = NULL;
	t->len = 0;
	size_t cap = 0;
	char chunk[4096];
	size_t n;
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if (t->len + n + 1 > cap) {
			cap = (t->len + n + 1) * 2;
			char *b = realloc(t->buf, cap);
			if (b == NULL) {
				free(t->buf);
				fclose(f);
				return -1;
			}
			t->buf = b;
		}
		memcpy(t->buf + t->len, chunk, n);
		t->len += n;
	}
	bool err = ferror(f) != 0;
	fclose(f);
	if (err || t->buf == NULL) {
		free(t->buf);
		if (!err) /* an empty script */
			return (t->buf = calloc(1, 1)) != NULL ? 0 : -1;
		return -1;
	}
	t->buf[t->len] = '\0';
	return 0;
}

static int write_file(const char *path, const char *buf, size_t len)
{
	FILE *f = fopen(path, "w");
	if (f == NULL) {
		perror(path);
		return -1;
	}
	bool ok = fwrite(buf, 1, len, f) == len;
	if (fclose(f) != 0)
		ok = false;
	return ok ? 0 : -1;
}

/* The next line of t from *pos (without its newline), or NULL at the end. */
static const char *next_line(const text *t, size_t *pos, size_t *len)
{
	if (*pos >= t->len)
		return NULL;
	const char *s = t->buf + *pos;
	const char *nl = memchr(s, '\n', t->len - *pos);
	*len = nl != NULL ? (size_t)(nl - s) : t->len - *pos;
	*pos += *len + (nl != NULL ? 1 : 0);
	return s;
}

static int show_diff(const char *path, const char *actual, size_t len)
{
	char tmp[] = "/tmp/raftkv-interaction-XXXXXX";
	int fd = mkstemp(tmp);
	if (fd < 0) {
		perror("mkstemp");
		return -1;
	}
	close(fd);
	if (write_file(tmp, actual, len) != 0) {
		unlink(tmp);
		return -1;
	}
	char cmd[2 * 4096];
	int n = snprintf(cmd, sizeof(cmd), "diff -u '%s' '%s'", path, tmp);
	if (n > 0 && (size_t)n < sizeof(cmd) && strchr(path, '\'') == NULL) {
		fflush(stdout);
		(void)!system(cmd); /* diff exits 1 when the files differ, as they do */
	}
	unlink(tmp);
	return 0;
}

int script_run(const char *path, bool rewrite)
{
	text in;
	if (read_file(path, &in) != 0)
		return 2;
	char *outbuf = NULL;
	size_t outlen = 0;
	FILE *out = open_memstream(&outbuf, &outlen);
	if (out == NULL) {
		free(in.buf);
		return 2;
	}
	env e;
	int rc = 0;
	size_t pos = 0, len, lineno = 0, commands = 0;
	const char *line;
	while ((line = next_line(&in, &pos, &len)) != NULL) {
		lineno++;
		if (len == 0 || line[0] == '#') {
			fprintf(out, "%.*s\n", (int)len, line);
			continue;
		}
		/* a command, its separator, then its expected output */
		char cmd[1024];
		if (len >= sizeof(cmd)) {
			fprintf(stderr, "%s:%zu: command too long\n", path, lineno);
			rc = 2;
			break;
		}
		memcpy(cmd, line, len);
		cmd[len] = '\0';
		size_t cmd_line = lineno;
		line = next_line(&in, &pos, &len);
		lineno++;
		if (line == NULL || len != 4 || memcmp(line, "----", 4) != 0) {
			fprintf(stderr, "%s:%zu: expected ---- after the command of line %zu\n", path,
				lineno, cmd_line);
			rc = 2;
			break;
		}
		while ((line = next_line(&in, &pos, &len)) != NULL && len > 0)
			lineno++; /* the expected output: replaced below */
		if (line != NULL)
			lineno++;
		if (commands++ == 0)
			env_init(&e, NULL);
		fprintf(out, "%s\n----\n", cmd);
		/* the command's own output, so an empty one can be shown as "ok" */
		char *cbuf = NULL;
		size_t clen = 0;
		FILE *cout = open_memstream(&cbuf, &clen);
		if (cout == NULL) {
			rc = 2;
			break;
		}
		e.out = cout;
		command_run(&e, cmd);
		fclose(cout);
		if (clen == 0)
			fputs("ok\n", out);
		else
			fwrite(cbuf, 1, clen, out);
		free(cbuf);
		if (line != NULL)
			fputc('\n', out); /* the blank line that ended the stanza */
	}
	if (commands > 0)
		env_free(&e);
	if (fclose(out) != 0)
		rc = 2;
	if (rc == 0) {
		bool same = outlen == in.len && memcmp(outbuf, in.buf, in.len) == 0;
		if (rewrite && !same)
			rc = write_file(path, outbuf, outlen) == 0 ? 0 : 2;
		else if (!same) {
			rc = 1;
			(void)show_diff(path, outbuf, outlen);
		}
	}
	free(outbuf);
	free(in.buf);
	return rc;
}
