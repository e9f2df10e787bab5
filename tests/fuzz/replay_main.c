/*
 * replay_main.c — a plain main() for the fuzz targets, so `make test` can
 * replay every checked-in corpus file and saved crash under gcc's
 * ASan+UBSan without clang. Each argument is a file, or a directory whose
 * files are replayed in name order. Ends with "N inputs".
 *
 * FUZZ_REPLAY_ALARM_US=N: a SIGALRM every N microseconds to a handler that
 * does nothing, installed without SA_RESTART as libFuzzer's -timeout
 * watchdog is: a target must not take the EINTR it causes for a failure.
 */
#include <dirent.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/time.h>

#include "fuzz.h"

static long replayed;

static int replay_file(const char *path)
{
	FILE *f = fopen(path, "rb");
	if (f == NULL) {
		perror(path);
		return -1;
	}
	size_t cap = 4096, len = 0;
	uint8_t *buf = malloc(cap);
	if (buf == NULL) {
		fclose(f);
		return -1;
	}
	size_t n;
	while ((n = fread(buf + len, 1, cap - len, f)) > 0) {
		len += n;
		if (len == cap) {
			uint8_t *nb = realloc(buf, cap * 2);
			if (nb == NULL) {
				free(buf);
				fclose(f);
				return -1;
			}
			buf = nb;
			cap *= 2;
		}
	}
	int bad = ferror(f);
	fclose(f);
	if (bad) {
		free(buf);
		return -1;
	}
	/* an exact-size copy, so ASan sees reads past the input's end */
	uint8_t *exact = malloc(len ? len : 1);
	if (exact == NULL) {
		free(buf);
		return -1;
	}
	memcpy(exact, buf, len);
	free(buf);
	(void)LLVMFuzzerTestOneInput(exact, len);
	free(exact);
	replayed++;
	return 0;
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

static int replay_dir(const char *path)
{
	DIR *d = opendir(path);
	if (d == NULL) {
		perror(path);
		return -1;
	}
	char **names = NULL;
	size_t n = 0, cap = 0;
	struct dirent *de;
	int rc = 0;
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue; /* ., .., .gitkeep */
		if (n == cap) {
			cap = cap ? cap * 2 : 64;
			char **nn = realloc(names, cap * sizeof *nn);
			if (nn == NULL) {
				rc = -1;
				break;
			}
			names = nn;
		}
		size_t l = strlen(path) + strlen(de->d_name) + 2;
		names[n] = malloc(l);
		if (names[n] == NULL) {
			rc = -1;
			break;
		}
		snprintf(names[n], l, "%s/%s", path, de->d_name);
		n++;
	}
	closedir(d);
	if (n > 0)
		qsort(names, n, sizeof *names, cmp_names);
	for (size_t i = 0; i < n; i++) {
		struct stat st;
		if (rc == 0 && stat(names[i], &st) == 0 && S_ISREG(st.st_mode) && replay_file(names[i]) != 0)
			rc = -1;
		free(names[i]);
	}
	free(names);
	return rc;
}

static void on_alarm(int sig)
{
	(void)sig;
}

static int start_alarms(const char *us)
{
	char *end;
	long n = strtol(us, &end, 10);
	if (*us == '\0' || *end != '\0' || n <= 0 || n >= 1000000) {
		fprintf(stderr, "FUZZ_REPLAY_ALARM_US: not a number of microseconds below 1 s: %s\n", us);
		return -1;
	}
	struct sigaction sa;
	memset(&sa, 0, sizeof sa);
	sa.sa_handler = on_alarm; /* no SA_RESTART, as libFuzzer */
	if (sigemptyset(&sa.sa_mask) != 0 || sigaction(SIGALRM, &sa, NULL) != 0) {
		perror("sigaction");
		return -1;
	}
	struct itimerval it = { .it_interval = { 0, n }, .it_value = { 0, n } };
	if (setitimer(ITIMER_REAL, &it, NULL) != 0) {
		perror("setitimer");
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	int rc = 0;
	const char *alarm_us = getenv("FUZZ_REPLAY_ALARM_US");
	if (alarm_us != NULL && start_alarms(alarm_us) != 0)
		return 1;
	for (int i = 1; i < argc; i++) {
		struct stat st;
		if (stat(argv[i], &st) != 0) {
			perror(argv[i]);
			rc = 1;
		} else if (S_ISDIR(st.st_mode) ? replay_dir(argv[i]) != 0 : replay_file(argv[i]) != 0) {
			rc = 1;
		}
	}
	printf("%ld inputs\n", replayed);
	return rc;
}
