/*
 * fuzz_state: the readers of anontel's own state files (src/state.c):
 * state_read_stamps, state_list_kept, state_list_log, state_read_kept, state_read_last.
 *
 * One state directory per process (tmpfs), opened once with state_open and reused;
 * each iteration rewrites its files. The input is cut at each "\n%%\n":
 *   part 0  the stamps file (an empty input removes it)
 *   part 1  a kept message (kept/<seq>.json) and last.json
 *   part 2  names, one per line, made in kept/ next to it: empty files, or with a
 *           leading "L:" a symlink to a file outside kept/ ("secret"), or with
 *           "D:" a directory
 *   part 3  the kept message's sequence number, in decimal (default 1)
 * Invariants: stamps read back within state.h's ranges, and a stamps file that
 * reads is written (state_write_stamps) and read again to the same values; a
 * refused one leaves the defaults and an error "DIR/stamps: line N: ..." on one
 * line. The kept list equals the one computed here from the names (exactly 20
 * digits + ".json", value <= 2^64-1), ascending, `max` honoured, total exact; the
 * audit log counts the regular files named 20 digits + ".sent", and the last
 * delivered message is its newest entry, else last.json. A
 * kept message reads back byte for byte when it fits `cap` and is refused when it
 * does not; a symlink is never followed (the secret never comes back).
 */
#include "fuzz_util.h"

#include "state.h"

#define SEP "\n%%\n"

static struct state s;
static char dir[512], kept_dir[600], stamps_path[600], last_path[600], secret_path[600];
static const char secret[] = "SECRET-OUTSIDE-KEPT";

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char err[512];

	(void)argc;
	(void)argv;
	fz_path(dir, sizeof dir, fz_tmpdir("state"), "st");
	FUZZ_CHECK(mkdir(dir, 0700) == 0, "mkdir %s: %s", dir, strerror(errno));
	FUZZ_CHECK(state_open(&s, dir, err, sizeof err) == 0 && err[0] == '\0', "state_open: %s",
	    err);
	fz_path(kept_dir, sizeof kept_dir, dir, "kept");
	fz_path(stamps_path, sizeof stamps_path, dir, "stamps");
	fz_path(last_path, sizeof last_path, dir, "last.json");
	fz_path(secret_path, sizeof secret_path, dir, "secret");
	fz_write_file(secret_path, secret, sizeof secret - 1);
	FUZZ_CHECK(mkdir(kept_dir, 0700) == 0, "mkdir kept");
	return 0;
}

static int
is_default(const struct state_stamps *st)
{
	return st->last_success_ms == 0 && st->last_built_ms == 0 && st->next_try_ms == 0 &&
	    st->failures == 0 && st->jitter_permille == -1 && st->dropped == 0 &&
	    st->rejected == 0 && st->sent == 0 && st->first_report_ms == 0 &&
	    st->notice_shown == 0 && st->last_error[0] == '\0';
}

static int
stamps_equal(const struct state_stamps *a, const struct state_stamps *b)
{
	return a->last_success_ms == b->last_success_ms && a->last_built_ms == b->last_built_ms &&
	    a->next_try_ms == b->next_try_ms && a->failures == b->failures &&
	    a->jitter_permille == b->jitter_permille && a->dropped == b->dropped &&
	    a->rejected == b->rejected && a->sent == b->sent &&
	    a->notice_shown == b->notice_shown && a->first_report_ms == b->first_report_ms &&
	    strcmp(a->last_error, b->last_error) == 0;
}

static void
check_stamps(int present)
{
	struct state_stamps st, again;
	char err[1024], prefix[700];
	int r;

	memset(&st, 0x5A, sizeof st);
	err[0] = '\0';
	r = state_read_stamps(&s, &st, err, sizeof err);
	FUZZ_CHECK(r == 0 || r == -1, "state_read_stamps returned %d", r);
	if (r != 0) {
		FUZZ_CHECK(present, "error for a missing stamps file: %s", err);
		FUZZ_CHECK(is_default(&st), "refused stamps do not leave the defaults");
		/* "DIR/stamps: line N: ..." for what is in the file, "DIR/stamps: larger
		 * than 4096 bytes" for a file too large to parse (state.h). */
		snprintf(prefix, sizeof prefix, "%s/stamps: ", dir);
		FUZZ_CHECK(strncmp(err, prefix, strlen(prefix)) == 0, "message \"%s\"", err);
		for (const char *c = err; *c; c++)
			FUZZ_CHECK((unsigned char)*c >= 0x20 && *c != 0x7f,
			    "control byte in the message \"%s\"", err);
		return;
	}
	if (!present)
		FUZZ_CHECK(is_default(&st), "a missing stamps file does not give the defaults");
	FUZZ_CHECK(st.last_success_ms >= 0 && st.last_built_ms >= 0 && st.next_try_ms >= 0 &&
	    st.first_report_ms >= 0 &&
	    st.jitter_permille >= -1 && st.jitter_permille <= STATE_JITTER_MAX,
	    "negative time or jitter out of range");
	FUZZ_CHECK(st.notice_shown == 0 || st.notice_shown == 1, "notice_shown %d", st.notice_shown);
	FUZZ_CHECK(memchr(st.last_error, '\0', sizeof st.last_error) != NULL,
	    "last_error not terminated");
	for (const char *c = st.last_error; *c; c++)
		FUZZ_CHECK((unsigned char)*c >= 0x20 && *c != 0x7f, "control byte in last_error");

	/* write what was read, read it again */
	FUZZ_CHECK(state_write_stamps(&s, &st, err, sizeof err) == 0, "state_write_stamps: %s", err);
	memset(&again, 0xA5, sizeof again);
	FUZZ_CHECK(state_read_stamps(&s, &again, err, sizeof err) == 0,
	    "stamps written by state_write_stamps do not read: %s", err);
	FUZZ_CHECK(stamps_equal(&st, &again), "stamps change through a write and a read");
}

/* Reference: 1 and *v when name is 20 digits + ".json" of a value <= UINT64_MAX. */
/* 20 digits + suffix, a number anontel gives: kept/'s names (".json" waiting,
 * ".sent" the audit log). */
static int
ref_seq_name(const char *name, const char *suffix, uint64_t *v)
{
	unsigned __int128 x = 0;

	if (strlen(name) != 25 || strcmp(name + 20, suffix) != 0)
		return 0;
	for (int i = 0; i < 20; i++) {
		if (name[i] < '0' || name[i] > '9')
			return 0;
		x = x * 10 + (unsigned)(name[i] - '0');
	}
	if (x == 0 || x > STATE_SEQ_MAX)     /* not a number anontel gives */
		return 0;
	*v = (uint64_t)x;
	return 1;
}

static int
ref_kept_name(const char *name, uint64_t *v)
{
	return ref_seq_name(name, ".json", v);
}

static int
cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

struct extra {
	char name[256];
	int kind;          /* 'F' file, 'L' symlink, 'D' directory */
};

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static struct extra ex[16];
	static char buf[65536 + 8];
	static uint64_t want[64], got[64];
	size_t off[4], len[4], n, nex = 0, nwant = 0, nignored = 0, nlogged = 0, total = 99, max, cap;
	uint64_t v0;
	char kept_name[32], kept_path[700], p[900], err[1024];
	uint64_t seq = 1, h = 0;
	ssize_t rd;
	int r;

	if (size > 65536)
		return 0;
	for (size_t i = 0; i < size; i++)
		h = h * 131 + data[i];
	n = fz_split(data, size, SEP, sizeof SEP - 1, 4, off, len);

	/* stamps */
	if (size == 0)
		unlink(stamps_path);
	else
		fz_write_file(stamps_path, data + off[0], len[0]);
	check_stamps(size != 0);

	/* the sequence number */
	if (n > 3 && len[3] > 0 && len[3] <= 20) {
		unsigned __int128 x = 0;
		size_t i;
		for (i = 0; i < len[3] && data[off[3] + i] >= '0' && data[off[3] + i] <= '9'; i++)
			x = x * 10 + (data[off[3] + i] - '0');
		if (i == len[3] && x <= UINT64_MAX)
			seq = (uint64_t)x;
	}
	snprintf(kept_name, sizeof kept_name, "%020llu.json", (unsigned long long)seq);
	fz_path(kept_path, sizeof kept_path, kept_dir, kept_name);
	{
		const uint8_t *msg = n > 1 ? data + off[1] : (const uint8_t *)"";
		size_t mlen = n > 1 ? len[1] : 0;

		fz_write_file(kept_path, msg, mlen);
		fz_write_file(last_path, msg, mlen);
	}
	if (ref_kept_name(kept_name, &v0))
		want[nwant++] = seq;
	else
		nignored++;

	/* the other names in kept/ */
	if (n > 2) {
		const uint8_t *q = data + off[2], *end = q + len[2];

		while (q < end && nex < 16) {
			const uint8_t *nl = memchr(q, '\n', (size_t)(end - q));
			size_t l = nl ? (size_t)(nl - q) : (size_t)(end - q);
			struct extra *e = &ex[nex];
			uint64_t v;

			e->kind = 'F';
			if (l >= 2 && (q[0] == 'L' || q[0] == 'D') && q[1] == ':') {
				e->kind = q[0];
				q += 2;
				l -= 2;
			}
			if (l > 0 && l < sizeof e->name && memchr(q, '/', l) == NULL &&
			    memchr(q, '\0', l) == NULL) {
				memcpy(e->name, q, l);
				e->name[l] = '\0';
				fz_path(p, sizeof p, kept_dir, e->name);
				if (strcmp(e->name, ".") != 0 && strcmp(e->name, "..") != 0 &&
				    access(p, F_OK) != 0 && errno == ENOENT) {
					if (e->kind == 'F')
						fz_write_file(p, "", 0);
					else if (e->kind == 'L')
						FUZZ_CHECK(symlink(secret_path, p) == 0, "symlink %s", p);
					else
						FUZZ_CHECK(mkdir(p, 0700) == 0, "mkdir %s", p);
					/* Only regular files with a number of ours are
					 * listed; the rest is ignored (temp names aside). */
					if (e->kind == 'F' && ref_kept_name(e->name, &v))
						want[nwant++] = v;
					else if (e->kind == 'F' && ref_seq_name(e->name, ".sent", &v))
						nlogged++;
					else if (strncmp(e->name, ".tmp-", 5) != 0)
						nignored++;
					nex++;
				}
			}
			q += l + (nl != NULL);
		}
	}
	qsort(want, nwant, sizeof want[0], cmp_u64);

	/* the list */
	max = (size_t)(h % 41);
	memset(got, 0xEE, sizeof got);
	r = state_list_kept(&s, got, max, &total, err, sizeof err);
	FUZZ_CHECK(r >= 0, "state_list_kept: %s", err);
	FUZZ_CHECK(total == nwant, "total %zu, want %zu", total, nwant);
	FUZZ_CHECK(s.kept_ignored == nignored, "ignored %zu, want %zu", s.kept_ignored, nignored);
	FUZZ_CHECK((size_t)r == (nwant < max ? nwant : max), "filled %d of max %zu, %zu kept", r, max,
	    nwant);
	for (int i = 0; i < r; i++)
		FUZZ_CHECK(got[i] == want[i], "entry %d is %llu, want %llu", i,
		    (unsigned long long)got[i], (unsigned long long)want[i]);
	FUZZ_CHECK(got[r] == 0xEEEEEEEEEEEEEEEEULL, "state_list_kept wrote past max");
	r = state_list_log(&s, got, 1, &total, err, sizeof err);
	FUZZ_CHECK(r >= 0 && total == nlogged, "log: %d, total %zu, want %zu", r, total, nlogged);

	/* the message, at a cap around its size */
	{
		size_t mlen = n > 1 ? len[1] : 0;
		size_t lastlen = 0;

		cap = mlen + (size_t)((h >> 8) % 5) - 2;
		if ((ssize_t)cap < 1 || cap > 65536)
			cap = mlen > 0 ? mlen : 1;
		memset(buf, 0xCC, sizeof buf);
		rd = state_read_kept(&s, seq, buf, cap, err, sizeof err);
		if (mlen <= cap) {
			FUZZ_CHECK(rd == (ssize_t)mlen && memcmp(buf, data + off[1], mlen) == 0,
			    "kept message read as %zd bytes, want %zu: %s", rd, mlen, rd < 0 ? err : "");
		} else {
			FUZZ_CHECK(rd == -1, "a %zu-byte message read into cap %zu", mlen, cap);
		}
		FUZZ_CHECK((unsigned char)buf[cap] == 0xCC, "state_read_kept wrote past cap");
		r = state_read_last(&s, buf, cap, &lastlen, err, sizeof err);
		if (nlogged > 0)    /* the newest log entry, an empty file here */
			FUZZ_CHECK(r == 1 && lastlen == 0, "the newest log entry read %d", r);
		else if (mlen <= cap)
			FUZZ_CHECK(r == 1 && lastlen == mlen && (mlen == 0 ||
			    memcmp(buf, data + off[1], mlen) == 0), "last.json read %d", r);
		else
			FUZZ_CHECK(r == -1, "a %zu-byte last.json read into cap %zu", mlen, cap);
	}

	/* symlinks and directories named like kept messages are refused, never followed */
	for (size_t i = 0; i < nex; i++) {
		uint64_t v;

		if (ex[i].kind == 'F' || !ref_kept_name(ex[i].name, &v))
			continue;
		rd = state_read_kept(&s, v, buf, sizeof buf - 8, err, sizeof err);
		FUZZ_CHECK(rd == -1, "kept %s (a %s) read as %zd bytes", ex[i].name,
		    ex[i].kind == 'L' ? "symlink" : "directory", rd);
	}

	/* clean up for the next input */
	for (size_t i = 0; i < nex; i++) {
		fz_path(p, sizeof p, kept_dir, ex[i].name);
		if (ex[i].kind == 'D')
			rmdir(p);
		else
			unlink(p);
	}
	unlink(kept_path);
	return 0;
}
