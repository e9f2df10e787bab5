/*
 * test_server_config.c — the node's command line (contract section 1):
 * goraft's spelling, the optional third cluster field, Go-style booleans,
 * defaults, and one clear error line for each mistake.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "../../node/server/config.h"

#define ARGC(a) ((int)(sizeof(a) / sizeof((a)[0])))

/* Parses argv (argv[0] included); returns config_parse's answer. */
static int parse(int argc, const char *const *argv, node_config *c, char *err, size_t errlen)
{
	err[0] = '\0';
	return config_parse(argc, (char **)argv, c, err, errlen);
}

static void test_goraft_spelling_and_defaults(void **state)
{
	(void)state;
	const char *argv[] = {"raftkv", "--node", "1", "--http", ":2021", "--cluster",
			      "0,:3030;1,:3031;2,:3032", "--data-dir", "data/n1"};
	node_config c;
	char err[256];
	assert_int_equal(parse(ARGC(argv), argv, &c, err, sizeof err), 0);
	assert_int_equal(c.id, 1);
	assert_string_equal(c.http_addr, ":2021");
	assert_string_equal(c.data_dir, "data/n1");
	assert_int_equal(c.n_members, 3);
	assert_string_equal(c.members[2].raft_addr, ":3032");
	assert_null(c.members[2].http_addr);
	assert_int_equal(c.max_key_bytes, 1024);
	assert_int_equal(c.max_value_bytes, 1u << 20);
	assert_false(c.enable_faults);
	assert_null(c.admin_token);
	assert_true(c.pre_vote);
	assert_int_equal(c.join_timeout_s, 60);
	config_free(&c);
}

/* --join-timeout: seconds, 0 = keep trying; a negative or huge value is refused. */
static void test_join_timeout(void **state)
{
	(void)state;
	const char *a0[] = {"raftkv", "--node", "3", "--join", "http://h:1", "--raft", "h:5", "--http", ":6",
			    "--data-dir", "d", "--join-timeout", "0"};
	node_config c;
	char err[256];
	assert_int_equal(parse(ARGC(a0), a0, &c, err, sizeof err), 0);
	assert_int_equal(c.join_timeout_s, 0);
	config_free(&c);
	const char *a1[] = {"raftkv", "--node", "3", "--join", "http://h:1", "--raft", "h:5", "--http", ":6",
			    "--data-dir", "d", "--join-timeout=-1"};
	assert_int_equal(parse(ARGC(a1), a1, &c, err, sizeof err), -1);
	assert_non_null(strstr(err, "--join-timeout"));
	config_free(&c);
	const char *a2[] = {"raftkv", "--node", "3", "--join", "http://h:1", "--raft", "h:5", "--http", ":6",
			    "--data-dir", "d", "--join-timeout", "86401"};
	assert_int_equal(parse(ARGC(a2), a2, &c, err, sizeof err), -1);
	config_free(&c);
}

static void test_third_field_gives_http(void **state)
{
	(void)state;
	const char *argv[] = {"raftkv", "-node", "0", "-cluster",
			      "0,127.0.0.1:3030,127.0.0.1:2020;1,127.0.0.1:3031,127.0.0.1:2021",
			      "-data-dir=d", "--enable-faults", "--admin-token=t"};
	node_config c;
	char err[256];
	assert_int_equal(parse(ARGC(argv), argv, &c, err, sizeof err), 0);
	assert_string_equal(c.http_addr, "127.0.0.1:2020");
	assert_string_equal(c.members[1].http_addr, "127.0.0.1:2021");
	assert_true(c.enable_faults);
	assert_string_equal(c.admin_token, "t");
	assert_ptr_equal(config_member(&c, 1), &c.members[1]);
	assert_null(config_member(&c, 5));
	config_free(&c);
}

static void test_go_style_booleans(void **state)
{
	(void)state;
	node_config c;
	char err[256];
	const char *a1[] = {"raftkv", "--node", "0", "--cluster", "0,:1,:2", "--data-dir", "d",
			    "--enable-faults=false", "--no-prevote=true"};
	assert_int_equal(parse(ARGC(a1), a1, &c, err, sizeof err), 0);
	assert_false(c.enable_faults);
	assert_false(c.pre_vote);
	config_free(&c);
	const char *a2[] = {"raftkv", "--node", "0", "--cluster", "0,:1,:2", "--data-dir", "d",
			    "-enable-faults=1", "--no-prevote=false"};
	assert_int_equal(parse(ARGC(a2), a2, &c, err, sizeof err), 0);
	assert_true(c.enable_faults);
	assert_true(c.pre_vote);
	config_free(&c);
	const char *a3[] = {"raftkv", "--enable-faults=maybe"};
	assert_int_equal(parse(ARGC(a3), a3, &c, err, sizeof err), -1);
	assert_non_null(strstr(err, "--enable-faults"));
	config_free(&c);
}

static void test_help_and_version_skip_validation(void **state)
{
	(void)state;
	node_config c;
	char err[256];
	const char *a1[] = {"raftkv", "-h"};
	assert_int_equal(parse(ARGC(a1), a1, &c, err, sizeof err), 0);
	assert_true(c.show_help);
	config_free(&c);
	const char *a2[] = {"raftkv", "--version"};
	assert_int_equal(parse(ARGC(a2), a2, &c, err, sizeof err), 0);
	assert_true(c.show_version);
	config_free(&c);
}

static void test_help_lists_every_flag_with_default(void **state)
{
	(void)state;
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);
	assert_non_null(f);
	config_print_help(f);
	assert_int_equal(fclose(f), 0);
	static const char *const names[] = {
		"--node", "--http", "--cluster", "--data-dir", "--enable-faults", "--admin-token",
		"--max-key-bytes", "--max-value-bytes", "--request-timeout-ms", "--tick-ms",
		"--election-ticks", "--heartbeat-ticks", "--no-prevote", "--peer-secret",
		"--peer-secret-file", "--max-connections", "--max-uncommitted-bytes", "--max-buffered-bytes", "--idle-timeout-ms",
		"--snapshot-entries", "--snapshot-bytes", "--snapshot-trailing", "--snapshot-trailing-bytes",
		"--wal-segment-bytes",
		"--header-timeout-ms", "--body-timeout-ms", "--join", "--raft", "--join-learner", "--join-timeout",
		"--promote-distance", "--help", "--version"};
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		assert_non_null(strstr(buf, names[i]));
	assert_non_null(strstr(buf, "(default 1024)"));
	assert_non_null(strstr(buf, "(default 1048576)"));
	assert_non_null(strstr(buf, "(default 3000)"));
	/* Every flag line but --help/--version states its default. */
	size_t lines = 0, with_default = 0;
	for (char *line = strtok(buf, "\n"); line != NULL; line = strtok(NULL, "\n")) {
		if (strncmp(line, "  --", 4) != 0)
			continue;
		lines++;
		if (strstr(line, "default") != NULL || strstr(line, "(required)") != NULL ||
		    strstr(line, "(none)") != NULL)
			with_default++;
	}
	assert_int_equal(lines, sizeof names / sizeof names[0]);
	assert_int_equal(with_default, lines - 2);
	free(buf);
}

/* The cluster secret comes from the flag or from a file's first line. */
static void test_peer_secret(void **state)
{
	(void)state;
	char path[] = "/tmp/raftkv-secret-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "s3cret\n", 7), 7);
	assert_int_equal(close(fd), 0);
	node_config c;
	char err[256];
	const char *file[] = {"raftkv", "--node", "0", "--cluster", "0,:3030,:2020", "--data-dir", "d",
			      "--peer-secret-file", path};
	assert_int_equal(parse(ARGC(file), file, &c, err, sizeof err), 0);
	assert_string_equal(c.peer_secret, "s3cret");
	config_free(&c);
	const char *flag[] = {"raftkv", "--node", "0", "--cluster", "0,:3030,:2020", "--data-dir", "d",
			      "--peer-secret", "abc"};
	assert_int_equal(parse(ARGC(flag), flag, &c, err, sizeof err), 0);
	assert_string_equal(c.peer_secret, "abc");
	config_free(&c);
	const char *both[] = {"raftkv", "--node", "0", "--cluster", "0,:3030,:2020", "--data-dir", "d",
			      "--peer-secret", "abc", "--peer-secret-file", path};
	assert_int_equal(parse(ARGC(both), both, &c, err, sizeof err), -1);
	assert_non_null(strstr(err, "not both"));
	config_free(&c);
	const char *empty[] = {"raftkv", "--node", "0", "--cluster", "0,:3030,:2020", "--data-dir", "d",
			       "--peer-secret", ""};
	assert_int_equal(parse(ARGC(empty), empty, &c, err, sizeof err), -1);
	config_free(&c);
	assert_int_equal(truncate(path, 0), 0);
	assert_int_equal(parse(ARGC(file), file, &c, err, sizeof err), -1);
	assert_non_null(strstr(err, "empty"));
	config_free(&c);
	assert_int_equal(unlink(path), 0);
	assert_int_equal(parse(ARGC(file), file, &c, err, sizeof err), -1);
	assert_non_null(strstr(err, path));
	config_free(&c);
}

/* Each bad command line fails with one line (no newline) naming the problem. */
static void test_mistakes_give_one_line(void **state)
{
	(void)state;
	static const struct {
		const char *argv[16];
		const char *needle;
	} cases[] = {
		{{"raftkv", "--bogus", NULL}, "unknown flag"},
		{{"raftkv", "--node", NULL}, "needs a value"},
		{{"raftkv", "--node", "x", NULL}, "--node"},
		{{"raftkv", "stray", NULL}, "unexpected argument"},
		{{"raftkv", "--node", "0", "--data-dir", "d", NULL}, "--cluster is required"},
		{{"raftkv", "--cluster", "0,:1", "--data-dir", "d", NULL}, "--node is required"},
		{{"raftkv", "--node", "0", "--cluster", "0,:1,:2", NULL}, "--data-dir"},
		{{"raftkv", "--node", "3", "--cluster", "0,:1,:2;1,:3,:4", "--data-dir", "d", NULL}, "not a member"},
		{{"raftkv", "--node", "0", "--cluster", "0,:1;0,:2", "--http", ":3", "--data-dir", "d", NULL}, "twice"},
		{{"raftkv", "--node", "0", "--cluster", "0,:1,:2,:3", "--data-dir", "d", NULL}, "ID,RAFTADDR"},
		{{"raftkv", "--node", "0", "--cluster", "0,nohost", "--http", ":3", "--data-dir", "d", NULL}, "raft address"},
		{{"raftkv", "--node", "0", "--cluster", "0,:1", "--http", ":99999", "--data-dir", "d", NULL}, "--http"},
		{{"raftkv", "--node", "0", "--cluster", "0,:1", "--data-dir", "d", NULL}, "--http is required"},
		{{"raftkv", "--node", "0", "--cluster", "", "--http", ":3", "--data-dir", "d", NULL}, "no members"},
		{{"raftkv", "--node", "0", "--cluster", "0,:1,:2", "--data-dir", "d", "--max-key-bytes", "0", NULL}, "--max-key-bytes"},
		{{"raftkv", "--node", "0", "--cluster", "0,:1,:2", "--data-dir", "d", "--heartbeat-ticks", "40", NULL}, "--heartbeat-ticks"},
		{{"raftkv", "--node", "0", "--cluster", "0,:1,:2", "--data-dir", "d", "--admin-token", "", NULL}, "--admin-token"},
		{{"raftkv", "--node", "0", "--cluster", "0,:1,:2", "--data-dir", "d", "--tick-ms", "-1", NULL}, "--tick-ms"},
		/* --join (node/server/join.c) */
		{{"raftkv", "--node", "3", "--join", "http://h:1", "--cluster", "0,:1,:2", "--raft", ":5", "--http", ":6", "--data-dir", "d", NULL}, "not both"},
		{{"raftkv", "--node", "3", "--join", "http://h:1", "--http", ":6", "--data-dir", "d", NULL}, "--join needs --raft"},
		{{"raftkv", "--node", "3", "--join", "http://h:1", "--raft", ":5", "--data-dir", "d", NULL}, "--join needs --http"},
		{{"raftkv", "--node", "3", "--join", "h:1", "--raft", ":5", "--http", ":6", "--data-dir", "d", NULL}, "one member's URL"},
		{{"raftkv", "--node", "3", "--join", "http://h:1", "--raft", "nohost", "--http", ":6", "--data-dir", "d", NULL}, "--raft"},
		{{"raftkv", "--node", "0", "--cluster", "0,:1,:2", "--raft", ":9", "--data-dir", "d", NULL}, "differs"},
		{{"raftkv", "--node", "0", "--cluster", "0,:1,:2", "--join-learner", "--data-dir", "d", NULL}, "goes with --join"},
	};
	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		int argc = 0;
		while (cases[i].argv[argc] != NULL)
			argc++;
		node_config c;
		char err[512];
		int rc = parse(argc, cases[i].argv, &c, err, sizeof err);
		if (rc != -1 || strstr(err, cases[i].needle) == NULL || strchr(err, '\n') != NULL ||
		    err[0] == '\0')
			fail_msg("case %zu: rc %d, err \"%s\" (wanted \"%s\")", i, rc, err, cases[i].needle);
		config_free(&c);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_goraft_spelling_and_defaults),
		cmocka_unit_test(test_join_timeout),
		cmocka_unit_test(test_third_field_gives_http),
		cmocka_unit_test(test_go_style_booleans),
		cmocka_unit_test(test_help_and_version_skip_validation),
		cmocka_unit_test(test_help_lists_every_flag_with_default),
		cmocka_unit_test(test_mistakes_give_one_line),
		cmocka_unit_test(test_peer_secret),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
