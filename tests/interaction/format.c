/*
 * format.c — text forms of entries and messages for the interaction scripts.
 * Only the fields a message type uses are written, so a script line says
 * what the message means (see README.md for each type).
 */
#include <ctype.h>
#include <inttypes.h>

#include "format.h"
#include "../../node/raft/membership.h"

void fmt_id(FILE *out, uint32_t id)
{
	if (id == RAFT_NONE)
		fputs("none", out);
	else
		fprintf(out, "%" PRIu32, id);
}

static void fmt_data(FILE *out, const uint8_t *data, uint32_t len)
{
	bool printable = true;
	for (uint32_t i = 0; i < len; i++)
		if (!isprint(data[i]) || data[i] == '"' || data[i] == '\\')
			printable = false;
	if (printable) {
		fprintf(out, "\"%.*s\"", (int)len, (const char *)data);
		return;
	}
	fputs("0x", out);
	for (uint32_t i = 0; i < len; i++)
		fprintf(out, "%02x", data[i]);
}

/* A CONF entry: the change, then the whole configuration after it
 * (voters, learners "~id", incarnations "id#inc" when not 0). */
static void fmt_conf(FILE *out, const uint8_t *data, uint32_t len)
{
	member_conf c;
	if (membership_decode(data, len, &c) != RAFT_OK) {
		fputs("conf(malformed)", out);
		return;
	}
	static const char *const ops[] = {"?", "add-learner", "promote", "remove"};
	fprintf(out, "conf(%s %" PRIu32, ops[c.op], c.subject);
	if (c.next_incarnation != 0)
		fprintf(out, " for #%" PRIu64, c.next_incarnation);
	fputs(":", out);
	for (size_t i = 0; i < c.n; i++) {
		fprintf(out, " %s%" PRIu32, c.m[i].voter ? "" : "~", c.m[i].id);
		if (c.m[i].incarnation != 0)
			fprintf(out, "#%" PRIu64, c.m[i].incarnation);
	}
	fputc(')', out);
}

void fmt_entry(FILE *out, const raft_entry *e)
{
	fprintf(out, "%" PRIu64 "@%" PRIu64 " ", e->index, e->term);
	if (e->type == RAFT_ENTRY_NOOP)
		fputs("noop", out);
	else if (e->type == RAFT_ENTRY_CONF)
		fmt_conf(out, e->data, e->len);
	else if (e->len == 0)
		fputs("\"\"", out);
	else
		fmt_data(out, e->data, e->len);
}

void fmt_entries(FILE *out, const raft_entry *e, size_t n)
{
	fputc('[', out);
	for (size_t i = 0; i < n; i++) {
		if (i > 0)
			fputs(", ", out);
		fmt_entry(out, &e[i]);
	}
	fputc(']', out);
}

void fmt_msg(FILE *out, const raft_msg *m)
{
	fprintf(out, "%" PRIu32 "->%" PRIu32, m->from, m->to);
	if (m->incarnation != 0) /* the sender's incarnation, shown when not the first */
		fprintf(out, "#%" PRIu64, m->incarnation);
	fprintf(out, " %s term=%" PRIu64, raft_msg_type_name(m->type), m->term);
	switch (m->type) {
	case RAFT_MSG_PREVOTE:
	case RAFT_MSG_VOTE:
		fprintf(out, " last=%" PRIu64 "@%" PRIu64, m->index, m->log_term);
		if (m->ctx != 0)
			fputs(" transfer", out);
		break;
	case RAFT_MSG_PREVOTE_RESP:
	case RAFT_MSG_VOTE_RESP:
		fputs(m->reject ? " rejected" : " granted", out);
		break;
	case RAFT_MSG_APPEND:
		fprintf(out, " prev=%" PRIu64 "@%" PRIu64 " commit=%" PRIu64, m->index, m->log_term,
			m->commit);
		if (m->n_entries > 0) {
			fputs(" entries=", out);
			fmt_entries(out, m->entries, m->n_entries);
		}
		break;
	case RAFT_MSG_APPEND_RESP:
		if (m->reject)
			fprintf(out, " rejected index=%" PRIu64 " hint=%" PRIu64 "@%" PRIu64, m->index,
				m->hint_index, m->hint_term);
		else
			fprintf(out, " index=%" PRIu64, m->index);
		break;
	case RAFT_MSG_HEARTBEAT:
		fprintf(out, " commit=%" PRIu64 " round=%" PRIu64, m->commit, m->ctx);
		break;
	case RAFT_MSG_HEARTBEAT_RESP:
		fprintf(out, " round=%" PRIu64 " last=%" PRIu64, m->ctx, m->index);
		break;
	case RAFT_MSG_PROPOSE:
		fputs(" entries=", out);
		fmt_entries(out, m->entries, m->n_entries);
		break;
	case RAFT_MSG_READ_INDEX:
		fprintf(out, " batch=%" PRIu64, m->ctx);
		break;
	case RAFT_MSG_READ_INDEX_RESP:
		fprintf(out, " batch=%" PRIu64 " index=%" PRIu64, m->ctx, m->index);
		break;
	default:
		break;
	}
}
