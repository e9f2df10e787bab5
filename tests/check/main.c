/*
 * main.c — raftkv-check: is a JSON Lines history linearizable?
 * Exit 0 yes, 1 no, 2 bad input or usage, 3 gave up (time or memory limit).
 */
#include "check.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdlib.h>

static const char usage[] =
	"usage: raftkv-check [options] [FILE]\n"
	"\n"
	"Checks that the history in FILE (JSON Lines, contract.md section 5; stdin when\n"
	"FILE is - or absent) is linearizable for a key-value store: each key an\n"
	"independent register with read, write, cas and append.\n"
	"\n"
	"  -t, --timeout SECONDS   give up (exit 3) after this long (default: no limit)\n"
	"  -m, --max-memory MIB    cap on the search's memory; exit 3 beyond (default 512)\n"
	"      --edn FILE          also write the history as Jepsen EDN (independent\n"
	"                          [key value] tuples; absent values are :absent, so a\n"
	"                          Knossos model must start at :absent)\n"
	"      --no-check          only read (and convert) the history; exit 0 or 2\n"
	"  -q, --quiet             print nothing when linearizable\n"
	"  -h, --help              this text\n"
	"\n"
	"Exit status: 0 linearizable, 1 not (the key, the longest linearizable prefix\n"
	"and the operations that could not come next go to stdout), 2 bad input (the\n"
	"line and reason go to stderr), 3 gave up.\n";

static int bad_usage(const char *msg, const char *arg)
{
	fprintf(stderr, "raftkv-check: %s%s%s\n", msg, arg ? ": " : "", arg ? arg : "");
	fprintf(stderr, "try raftkv-check --help\n");
	return CHECK_BAD_INPUT;
}

static int write_edn(const check_history *h, const char *path)
{
	FILE *f = fopen(path, "w");
	if (!f) {
		fprintf(stderr, "raftkv-check: %s: %s\n", path, strerror(errno));
		return -1;
	}
	int rc = check_history_write_edn(h, f);
	if (fclose(f) != 0)
		rc = -1;
	if (rc < 0)
		fprintf(stderr, "raftkv-check: %s: write failed\n", path);
	return rc;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "timeout", required_argument, NULL, 't' },
		{ "max-memory", required_argument, NULL, 'm' },
		{ "edn", required_argument, NULL, 'e' },
		{ "no-check", no_argument, NULL, 'n' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	check_options opts = { 0 };
	const char *edn = NULL;
	bool quiet = false, check = true;
	int c;
	while ((c = getopt_long(argc, argv, "t:m:qh", longopts, NULL)) != -1) {
		char *end;
		switch (c) {
		case 't':
			errno = 0;
			opts.timeout_s = strtod(optarg, &end);
			if (errno || end == optarg || *end || !(opts.timeout_s > 0) || !isfinite(opts.timeout_s))
				return bad_usage("--timeout needs a positive number of seconds", optarg);
			break;
		case 'm': {
			errno = 0;
			unsigned long long mib = strtoull(optarg, &end, 10);
			if (errno || end == optarg || *end || mib == 0 || mib > (SIZE_MAX >> 20))
				return bad_usage("--max-memory needs a positive number of MiB", optarg);
			opts.max_memory = (size_t)mib << 20;
			break;
		}
		case 'e':
			edn = optarg;
			break;
		case 'n':
			check = false;
			break;
		case 'q':
			quiet = true;
			break;
		case 'h':
			fputs(usage, stdout);
			return fflush(stdout) == 0 ? 0 : CHECK_BAD_INPUT;
		default:
			return bad_usage("unknown option", NULL);
		}
	}
	if (argc - optind > 1)
		return bad_usage("one history file at most", argv[optind + 1]);
	const char *path = optind < argc ? argv[optind] : "-";
	FILE *in = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
	if (!in) {
		fprintf(stderr, "raftkv-check: %s: %s\n", path, strerror(errno));
		return CHECK_BAD_INPUT;
	}
	check_history *h = check_history_new();
	if (!h) {
		fprintf(stderr, "raftkv-check: out of memory\n");
		if (in != stdin)
			fclose(in);
		return CHECK_GAVE_UP;
	}
	int rc = check_history_read_file(h, in);
	if (in != stdin && fclose(in) != 0 && rc == 0)
		rc = -1;
	if (rc < 0) {
		fprintf(stderr, "raftkv-check: %s: %s\n", path, check_history_error(h));
		check_history_free(h);
		return CHECK_BAD_INPUT;
	}
	if (edn && write_edn(h, edn) < 0) {
		check_history_free(h);
		return CHECK_BAD_INPUT;
	}
	if (!check) {
		check_history_free(h);
		return 0;
	}
	check_result res;
	check_verdict v = check_history_check(h, &opts, &res);
	const char *d = res.description ? res.description : "(out of memory describing the result)";
	if (v != CHECK_LINEARIZABLE || !quiet) {
		fputs(d, stdout);
		if (*d && d[strlen(d) - 1] != '\n')
			fputc('\n', stdout);
	}
	check_result_free(&res);
	check_history_free(h);
	if (fflush(stdout) != 0)
		return CHECK_BAD_INPUT;
	return (int)v;
}
