/*
 * test_server_meta.c — the data dir's identity (meta.json): a dir is
 * refused to another node, and (issue 10 item 7) to the same node started
 * with a different member list, which could elect two leaders in one term.
 * Addresses may change; the set of ids may not.
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

#include "../../node/server/join.h"
#include "../../node/server/meta.h"

static char dir[128];

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof dir, "/tmp/raftkv-test-meta-XXXXXX");
	return mkdtemp(dir) != NULL ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	char cmd[200];
	snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

/* meta_prepare, then the lock released as a stopping process would. */
static int start(uint32_t node, const char *cluster, char *err, size_t errlen)
{
	int fd = -1;
	err[0] = '\0';
	char *peers = NULL;
	int rc = meta_prepare(dir, node, cluster, &peers, &fd, err, errlen);
	free(peers);
	if (fd >= 0)
		close(fd);
	return rc;
}

static void test_restart_with_same_members(void **state)
{
	(void)state;
	char err[512];
	assert_int_equal(start(1, "0,:3030;1,:3031;2,:3032", err, sizeof err), 0);
	assert_int_equal(start(1, "0,:3030;1,:3031;2,:3032", err, sizeof err), 0);
	/* other addresses and order, same ids: accepted */
	assert_int_equal(start(1, "2,:4032;0,:4030;1,:4031,:2021", err, sizeof err), 0);
}

static void test_restart_with_other_members_is_refused(void **state)
{
	(void)state;
	char err[512];
	assert_int_equal(start(1, "0,:3030;1,:3031;2,:3032", err, sizeof err), 0);
	/* a member replaced */
	assert_int_equal(start(1, "0,:3030;1,:3031;3,:3033", err, sizeof err), -1);
	assert_non_null(strstr(err, "0,1,2"));
	assert_non_null(strstr(err, "0,1,3"));
	assert_null(strchr(err, '\n')); /* one line */
	/* a member dropped, a member added */
	assert_int_equal(start(1, "0,:3030;1,:3031", err, sizeof err), -1);
	assert_int_equal(start(1, "0,:3030;1,:3031;2,:3032;3,:3033;4,:3034", err, sizeof err), -1);
	/* and the dir still works with its own list */
	assert_int_equal(start(1, "0,:3030;1,:3031;2,:3032", err, sizeof err), 0);
}

static void test_other_node_is_refused(void **state)
{
	(void)state;
	char err[512];
	assert_int_equal(start(1, "0,:3030;1,:3031;2,:3032", err, sizeof err), 0);
	assert_int_equal(start(2, "0,:3030;1,:3031;2,:3032", err, sizeof err), -1);
	assert_non_null(strstr(err, "belongs to node 1"));
}

/* --join: a dir remembers how it was made; the other way is refused. */
static void test_join_and_cluster_dirs_are_not_mixed(void **state)
{
	(void)state;
	char err[512];
	assert_int_equal(start(3, NULL, err, sizeof err), 0);
	assert_int_equal(start(3, NULL, err, sizeof err), 0);
	assert_int_equal(start(3, "0,:3030;3,:3033", err, sizeof err), -1);
	assert_non_null(strstr(err, "start it with --join"));
	assert_int_equal(teardown(NULL), 0);
	assert_int_equal(setup(NULL), 0);
	assert_int_equal(start(1, "0,:3030;1,:3031;2,:3032", err, sizeof err), 0);
	assert_int_equal(start(1, NULL, err, sizeof err), -1);
	assert_non_null(strstr(err, "start it with --cluster"));
}

/* The address book a joined node stores, read back on restart. */
static void test_join_peers_stored(void **state)
{
	(void)state;
	char err[512];
	int fd = -1;
	char *peers = NULL;
	assert_int_equal(meta_prepare(dir, 3, NULL, &peers, &fd, err, sizeof err), 0);
	assert_null(peers);
	addr_book b = {0};
	assert_int_equal(book_parse(&b, "0,127.0.0.1:3030,127.0.0.1:2020;1,h1:3031,"), 0);
	assert_int_equal(b.n, 2);
	assert_string_equal(book_find(&b, 1)->raft_addr, "h1:3031");
	assert_null(book_find(&b, 1)->http_addr);
	assert_int_equal(book_set(&b, 1, "h1:4031", "h1:2021"), 0);
	char *text = book_format(&b);
	assert_non_null(text);
	assert_string_equal(text, "0,127.0.0.1:3030,127.0.0.1:2020;1,h1:4031,h1:2021");
	assert_int_equal(meta_store_peers(dir, 3, text, err, sizeof err), 0);
	close(fd);
	fd = -1;
	assert_int_equal(meta_prepare(dir, 3, NULL, &peers, &fd, err, sizeof err), 0);
	assert_non_null(peers);
	assert_string_equal(peers, text);
	close(fd);
	free(peers);
	free(text);
	book_free(&b);
	/* damaged entries are refused */
	assert_int_equal(book_parse(&b, "x,a:1,"), -1);
	book_free(&b);
	assert_int_equal(book_parse(&b, "1,,"), -1);
	book_free(&b);
	assert_int_equal(book_parse(&b, "1,a:1"), -1);
	book_free(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_restart_with_same_members, setup, teardown),
		cmocka_unit_test_setup_teardown(test_restart_with_other_members_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_other_node_is_refused, setup, teardown),
		cmocka_unit_test_setup_teardown(test_join_and_cluster_dirs_are_not_mixed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_join_peers_stored, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
