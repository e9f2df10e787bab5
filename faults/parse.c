/*
 * parse.c — strict readers for admin request bodies. A tester who misspells
 * a field or sends "0.5" as a string should get a 400 that says so, not a
 * fault silently different from the one intended.
 */
#include "faults_internal.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool only_space(const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r' && p[i] != '\n')
			return false;
	return true;
}

int jp_parse_object(const char *body, size_t len, cJSON **out, char *err, size_t errlen)
{
	*out = NULL;
	/* An empty body means "no parameters" (curl -X POST without -d). */
	if (body == NULL || only_space(body, len)) {
		*out = cJSON_CreateObject();
		if (*out == NULL) {
			snprintf(err, errlen, "out of memory");
			return -1;
		}
		return 0;
	}
	const char *end = NULL;
	cJSON *j = cJSON_ParseWithLengthOpts(body, len, &end, false);
	if (j == NULL) {
		size_t at = (end != NULL && end >= body) ? (size_t)(end - body) : 0;
		snprintf(err, errlen, "body is not valid JSON (error near byte %zu)", at);
		return -1;
	}
	size_t used = (size_t)(end - body);
	if (used > len || !only_space(end, len - used)) {
		cJSON_Delete(j);
		snprintf(err, errlen, "trailing bytes after the JSON value");
		return -1;
	}
	if (!cJSON_IsObject(j)) {
		cJSON_Delete(j);
		snprintf(err, errlen, "body must be a JSON object");
		return -1;
	}
	*out = j;
	return 0;
}

int jp_check_keys(const cJSON *o, const char *const *allowed, char *err, size_t errlen)
{
	const cJSON *it;
	cJSON_ArrayForEach(it, o) {
		bool ok = false;
		for (size_t i = 0; allowed[i] != NULL; i++)
			if (it->string != NULL && strcmp(it->string, allowed[i]) == 0)
				ok = true;
		if (!ok) {
			/* List what is allowed, so the message is its own documentation. */
			size_t n = (size_t)snprintf(err, errlen, "unknown field \"%.40s\"; allowed:",
						    it->string ? it->string : "");
			for (size_t i = 0; allowed[i] != NULL && n < errlen; i++)
				n += (size_t)snprintf(err + n, errlen - n, "%s %s", i ? "," : "",
						      allowed[i]);
			return -1;
		}
	}
	return 0;
}

int jp_int(const cJSON *o, const char *key, int64_t min, int64_t max, bool *present,
	   int64_t *v, char *err, size_t errlen)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, key);
	*present = false;
	if (it == NULL)
		return 0;
	double d = it->valuedouble;
	if (!cJSON_IsNumber(it) || !isfinite(d) || d != floor(d) || d < (double)min ||
	    d > (double)max) {
		snprintf(err, errlen, "%s must be an integer from %lld to %lld", key,
			 (long long)min, (long long)max);
		return -1;
	}
	*v = (int64_t)d;
	*present = true;
	return 0;
}

int jp_number(const cJSON *o, const char *key, double min, double max, bool *present,
	      double *v, char *err, size_t errlen)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, key);
	*present = false;
	if (it == NULL)
		return 0;
	if (!cJSON_IsNumber(it) || !isfinite(it->valuedouble) || it->valuedouble < min ||
	    it->valuedouble > max) {
		snprintf(err, errlen, "%s must be a number from %g to %g", key, min, max);
		return -1;
	}
	*v = it->valuedouble;
	*present = true;
	return 0;
}

int jp_bool(const cJSON *o, const char *key, bool *present, bool *v, char *err, size_t errlen)
{
	const cJSON *it = cJSON_GetObjectItemCaseSensitive(o, key);
	*present = false;
	if (it == NULL)
		return 0;
	if (!cJSON_IsBool(it)) {
		snprintf(err, errlen, "%s must be true or false", key);
		return -1;
	}
	*v = cJSON_IsTrue(it);
	*present = true;
	return 0;
}

int jp_idlist(const cJSON *item, const char *what, fault_idset *out, char *err, size_t errlen)
{
	out->ids = NULL;
	out->n = 0;
	if (!cJSON_IsArray(item)) {
		snprintf(err, errlen, "%s must be an array of node ids", what);
		return -1;
	}
	int n = cJSON_GetArraySize(item);
	if (n == 0)
		return 0;
	out->ids = calloc((size_t)n, sizeof *out->ids);
	if (out->ids == NULL) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	const cJSON *it;
	cJSON_ArrayForEach(it, item) {
		double d = it->valuedouble;
		if (!cJSON_IsNumber(it) || !isfinite(d) || d != floor(d) || d < 0 ||
		    d > (double)UINT32_MAX) {
			snprintf(err, errlen, "%s must hold node ids (integers >= 0)", what);
			idset_free(out);
			return -1;
		}
		out->ids[out->n++] = (uint32_t)d;
	}
	return 0;
}

int jp_check_members(const faults *f, const fault_idset *s, const char *what, char *err,
		     size_t errlen)
{
	if (f->n_members == 0)
		return 0;
	for (size_t i = 0; i < s->n; i++) {
		bool found = false;
		for (size_t k = 0; k < f->n_members && !found; k++)
			found = f->members[k] == s->ids[i];
		if (!found) {
			snprintf(err, errlen, "%s names node %u, which is not a member of the cluster",
				 what, (unsigned)s->ids[i]);
			return -1;
		}
	}
	return 0;
}
