/*
 * test_state: the state directory (src/state.h).
 *
 * Cases that need mounts (read-only or full file systems, the fallback to
 * /var/lib/anontel and /tmp/anontel-<uid>) run in a forked child that did
 * unshare(CLONE_NEWNS) and put fresh tmpfs on /tmp and /var/lib, so the host's
 * directories are never touched. They need root (build.sh runs as root).
 */
#define _GNU_SOURCE
#include "check.h"
#include "state.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define ERRLEN 1024

/* Test paths are short; a truncated one would fail a check anyway. */
#pragma GCC diagnostic ignored "-Wformat-truncation"

/* ---- helpers ------------------------------------------------------------- */

static void
tmpdir(char *out, size_t cap)
{
	snprintf(out, cap, "/tmp/test_state-XXXXXX");
	if (mkdtemp(out) == NULL) {
		perror("mkdtemp");
		exit(1);
	}
}

static void
rm_rf(const char *path)
{
	char cmd[4200];

	snprintf(cmd, sizeof cmd, "rm -rf '%s'", path);
	if (system(cmd) != 0)
		printf("# rm -rf %s failed\n", path);
}

static void
put_file(const char *dir, const char *name, const void *p, size_t n)
{
	char path[4200];
	int fd;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	if (fd < 0 || write(fd, p, n) != (ssize_t)n) {
		perror(path);
		exit(1);
	}
	close(fd);
}

/* Reads dir/name into buf (NUL-terminated); returns length or -1. */
static ssize_t
get_file(const char *dir, const char *name, char *buf, size_t cap)
{
	char path[4200];
	ssize_t n;
	int fd;

	snprintf(path, sizeof path, "%s/%s", dir, name);
	fd = open(path, O_RDONLY | O_NOFOLLOW);
	if (fd < 0)
		return -1;
	n = read(fd, buf, cap - 1);
	close(fd);
	if (n >= 0)
		buf[n] = '\0';
	return n;
}

static int
mode_of(const char *dir, const char *name)
{
	char path[4200];
	struct stat st;

	snprintf(path, sizeof path, "%s%s%s", dir, name ? "/" : "", name ? name : "");
	if (lstat(path, &st) != 0)
		return -1;
	return (int)(st.st_mode & 07777);
}

static int
exists(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0;
}

/* Number of entries starting with ".tmp-" in dir. */
static int
count_tmp(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	int n = 0;

	if (d == NULL)
		return 0;
	while ((e = readdir(d)) != NULL)
		if (strncmp(e->d_name, ".tmp-", 5) == 0)
			n++;
	closedir(d);
	return n;
}

static void
open_in(struct state *s, const char *dir)
{
	char err[ERRLEN];
	int rc = state_open(s, dir, err, sizeof err);

	CHECKF(rc == 0, "state_open(%s): %d %s", dir, rc, err);
	CHECK_STR(s->dir, dir, "state dir");
	CHECK_STR(err, "", "state_open err");
}

static int
stamps_eq(const struct state_stamps *a, const struct state_stamps *b)
{
	return a->last_success_ms == b->last_success_ms && a->last_built_ms == b->last_built_ms &&
	    a->next_try_ms == b->next_try_ms && a->failures == b->failures &&
	    a->jitter_permille == b->jitter_permille && a->dropped == b->dropped &&
	    a->rejected == b->rejected && a->sent == b->sent &&
	    a->notice_shown == b->notice_shown && a->first_report_ms == b->first_report_ms &&
	    strcmp(a->last_error, b->last_error) == 0;
}

static int
is_defaults(const struct state_stamps *st)
{
	struct state_stamps d;

	memset(&d, 0, sizeof d);
	d.jitter_permille = -1;
	return stamps_eq(st, &d);
}

/* Runs fn in a child with a private mount namespace: a fresh tmpfs on /tmp
 * and on /var/lib (read-only when varlib_ro). The child's failures count as one
 * failure here. */
static void
in_sandbox(void (*fn)(const void *arg), const void *arg, int varlib_ro)
{
	pid_t pid;
	int status;

	fflush(stdout);
	pid = fork();
	if (pid < 0) {
		CHECKF(0, "fork: %s", strerror(errno));
		return;
	}
	if (pid == 0) {
		check_failures = 0;
		if (unshare(CLONE_NEWNS) != 0 ||
		    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0 ||
		    mount("tmpfs", "/tmp", "tmpfs", 0, "mode=1777") != 0 ||
		    mount("tmpfs", "/var/lib", "tmpfs", varlib_ro ? MS_RDONLY : 0, "mode=0755") != 0) {
			printf("#   sandbox: %s (needs root)\n", strerror(errno));
			fflush(stdout);
			_exit(2);
		}
		fn(arg);
		fflush(stdout);
		_exit(check_failures ? 1 : 0);
	}
	while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
		;
	CHECKF(WIFEXITED(status) && WEXITSTATUS(status) == 0, "sandboxed child: status %#x", status);
}

static void
mount_tmpfs(const char *dir, const char *opts, unsigned long flags)
{
	if (mkdir(dir, 0700) != 0 && errno != EEXIST)
		CHECKF(0, "mkdir %s: %s", dir, strerror(errno));
	CHECKF(mount("tmpfs", dir, "tmpfs", flags, opts) == 0, "mount %s: %s", dir, strerror(errno));
}

/* ---- state_open / state_find --------------------------------------------- */

enum pref_setup {
	P_NULL, P_EMPTY, P_EXISTS, P_MISSING, P_NOPARENT, P_RO, P_SYMLINK, P_FILE, P_GROUPW,
	P_WORLDW, P_FOREIGN, P_SYMLINK_SLASH, P_EXISTS_SLASH, P_DEEP, P_LINK_FIRST, P_LINK_MID,
	P_DOTDOT, P_STICKY, P_STICKY_SUB, P_STICKY_LINK, P_STICKY_FOREIGN, P_STICKY_GROUPW,
};

enum { F_VARLIB_RO = 1, F_TMP_RO = 2, F_TMP_FOREIGN = 4, F_VARLIB_GROUPW = 8, F_VARLIB_EXISTS = 16,
	F_TMP_EXISTS = 32 };

struct open_row {
	const char *name;
	enum pref_setup pref;
	int flags;
	int want_rc;
	const char *want_dir;      /* "T" = /tmp/anontel-<euid>, "S" = /tmp/pref/anontel-<euid> */
	const char *want_err[3];   /* substrings of err; NULL-terminated; {""} = err empty */
};

static const char *
pref_path(enum pref_setup p)
{
	switch (p) {
	case P_NULL: return NULL;
	case P_SYMLINK_SLASH: return "/tmp/pref//";
	case P_EMPTY: return "";
	case P_NOPARENT: return "/tmp/nope/pref";
	case P_EXISTS_SLASH: return "/tmp/pref/";
	case P_DEEP: return "/tmp/a/b/c/pref";
	case P_LINK_FIRST: return "/tl/x/pref";
	case P_LINK_MID: return "/tmp/link/x/pref";
	case P_DOTDOT: return "/tmp/x/../pref";
	default: return "/tmp/pref";
	}
}

/* want_dir of a row: "T" and "S" expanded. */
static void
want_of(const char *want_dir, char *out, size_t cap)
{
	if (strcmp(want_dir, "T") == 0)
		snprintf(out, cap, "/tmp/anontel-%u", (unsigned)geteuid());
	else if (strcmp(want_dir, "S") == 0)
		snprintf(out, cap, "/tmp/pref/anontel-%u", (unsigned)geteuid());
	else
		snprintf(out, cap, "%s", want_dir);
}

static void
setup_candidates(enum pref_setup p, int flags)
{
	char tdir[64], sub[64];

	snprintf(tdir, sizeof tdir, "/tmp/anontel-%u", (unsigned)geteuid());
	want_of("S", sub, sizeof sub);
	switch (p) {
	case P_LINK_FIRST:
		/* A link right under "/": in a chroot to a fresh root (in the private
		 * tmpfs), which has no /var or /tmp either, as a FROM scratch image. */
		CHECK(mkdir("/tmp/root", 0755) == 0 && mkdir("/tmp/root/real", 0755) == 0);
		CHECK(mkdir("/tmp/root/real/x", 0755) == 0 && mkdir("/tmp/root/real/x/pref", 0700) == 0);
		CHECK(symlink("real", "/tmp/root/tl") == 0);
		CHECK(chroot("/tmp/root") == 0 && chdir("/") == 0);
		break;
	case P_LINK_MID:
		CHECK(mkdir("/tmp/real", 0755) == 0 && mkdir("/tmp/real/x", 0755) == 0);
		CHECK(mkdir("/tmp/real/x/pref", 0700) == 0);
		CHECK(symlink("/tmp/real", "/tmp/link") == 0);
		break;
	case P_DOTDOT:
		CHECK(mkdir("/tmp/x", 0755) == 0 && mkdir("/tmp/pref", 0700) == 0);
		break;
	case P_STICKY:
	case P_STICKY_SUB:
	case P_STICKY_LINK:
	case P_STICKY_FOREIGN:
	case P_STICKY_GROUPW:
		mount_tmpfs("/tmp/pref", p == P_STICKY_GROUPW ? "mode=1770" : "mode=1777", 0);
		if (p == P_STICKY_SUB || p == P_STICKY_FOREIGN)
			CHECK(mkdir(sub, 0700) == 0);
		if (p == P_STICKY_FOREIGN)
			CHECK(chown(sub, 65534, 65534) == 0);
		if (p == P_STICKY_LINK) {
			CHECK(mkdir("/tmp/real", 0700) == 0);
			CHECK(symlink("/tmp/real", sub) == 0);
		}
		break;
	case P_EXISTS:
	case P_EXISTS_SLASH:
		CHECK(mkdir("/tmp/pref", 0700) == 0);
		break;
	case P_RO:
		mount_tmpfs("/tmp/pref", "mode=0700", MS_RDONLY);
		break;
	case P_SYMLINK:
	case P_SYMLINK_SLASH:
		CHECK(mkdir("/tmp/real", 0700) == 0);
		CHECK(symlink("/tmp/real", "/tmp/pref") == 0);
		break;
	case P_FILE:
		put_file("/tmp", "pref", "x", 1);
		break;
	case P_GROUPW:
	case P_WORLDW:
		CHECK(mkdir("/tmp/pref", 0700) == 0);
		CHECK(chmod("/tmp/pref", p == P_GROUPW ? 0770 : 0777) == 0);
		break;
	case P_FOREIGN:
		CHECK(mkdir("/tmp/pref", 0700) == 0);
		CHECK(chown("/tmp/pref", 65534, 65534) == 0);
		break;
	default:
		break;
	}
	if (flags & F_TMP_FOREIGN) {
		CHECK(mkdir(tdir, 0700) == 0);
		CHECK(chown(tdir, 65534, 65534) == 0);
	}
	if (flags & F_TMP_EXISTS)
		CHECK(mkdir(tdir, 0700) == 0);
	if (flags & (F_VARLIB_GROUPW | F_VARLIB_EXISTS)) {
		CHECK(mkdir("/var/lib/anontel", 0700) == 0);
		if (flags & F_VARLIB_GROUPW)
			CHECK(chmod("/var/lib/anontel", 0770) == 0);
	}
	if (flags & F_VARLIB_RO)
		CHECK(mount(NULL, "/var/lib", NULL, MS_REMOUNT | MS_RDONLY, NULL) == 0);
	if (flags & F_TMP_RO)
		CHECK(mount(NULL, "/tmp", NULL, MS_REMOUNT | MS_RDONLY, NULL) == 0);
}

static const struct open_row open_rows[] = {
	{ "preferred exists", P_EXISTS, 0, 0, "/tmp/pref", { "" } },
	{ "preferred created", P_MISSING, 0, 0, "/tmp/pref", { "" } },
	{ "preferred read-only", P_RO, 0, 0, "/var/lib/anontel",
	    { "/tmp/pref: not writable: Read-only file system", NULL } },
	{ "preferred symlink", P_SYMLINK, 0, 0, "/var/lib/anontel",
	    { "/tmp/pref: is a symbolic link (refused)", NULL } },
	{ "preferred symlink, trailing slashes", P_SYMLINK_SLASH, 0, 0, "/var/lib/anontel",
	    { "/tmp/pref: is a symbolic link (refused)", NULL } },
	{ "preferred, trailing slash", P_EXISTS_SLASH, 0, 0, "/tmp/pref", { "" } },
	{ "preferred is a file", P_FILE, 0, 0, "/var/lib/anontel",
	    { "/tmp/pref: Not a directory", NULL } },
	{ "preferred group-writable", P_GROUPW, 0, 0, "/var/lib/anontel",
	    { "/tmp/pref: is group- or world-writable (refused)", NULL } },
	{ "preferred world-writable", P_WORLDW, 0, 0, "/var/lib/anontel",
	    { "/tmp/pref: is group- or world-writable (refused)", NULL } },
	{ "preferred foreign owner", P_FOREIGN, 0, 0, "/var/lib/anontel",
	    { "/tmp/pref: owned by uid 65534", NULL } },
	{ "preferred parent missing", P_NOPARENT, 0, 0, "/tmp/nope/pref", { "" } },
	{ "preferred parents missing", P_DEEP, 0, 0, "/tmp/a/b/c/pref", { "" } },
	{ "preferred parent missing, read-only", P_NOPARENT, F_TMP_RO, 0, "/var/lib/anontel",
	    { "/tmp/nope/pref: cannot create /tmp/nope: Read-only file system", NULL } },
	{ "symlink first, parents of /var/lib made", P_LINK_FIRST, 0, 0, "/var/lib/anontel",
	    { "/tl/x/pref: /tl is a symbolic link (refused)", NULL } },
	{ "symlink in the middle", P_LINK_MID, 0, 0, "/var/lib/anontel",
	    { "/tmp/link/x/pref: /tmp/link is a symbolic link (refused)", NULL } },
	{ "a .. component", P_DOTDOT, 0, 0, "/var/lib/anontel",
	    { "/tmp/x/../pref: /tmp/x/.. is a . or .. component (refused)", NULL } },
	{ "sticky 1777: private subdir made", P_STICKY, 0, 0, "S", { "" } },
	{ "sticky 1777: private subdir exists", P_STICKY_SUB, 0, 0, "S", { "" } },
	{ "sticky 1777: private subdir a symlink", P_STICKY_LINK, 0, 0, "/var/lib/anontel",
	    { "/tmp/pref/anontel-", ": is a symbolic link (refused)", NULL } },
	{ "sticky 1777: private subdir not ours", P_STICKY_FOREIGN, 0, 0, "/var/lib/anontel",
	    { "/tmp/pref/anontel-", "owned by uid 65534", NULL } },
	{ "sticky 1770: private subdir made", P_STICKY_GROUPW, 0, 0, "S", { "" } },
	{ "no preferred", P_NULL, 0, 0, "/var/lib/anontel", { "" } },
	{ "empty preferred", P_EMPTY, 0, 0, "/var/lib/anontel", { "" } },
	{ "/var/lib read-only", P_NULL, F_VARLIB_RO, 0, "T",
	    { "/var/lib/anontel: cannot create: Read-only file system", NULL } },
	{ "/var/lib/anontel group-writable", P_NULL, F_VARLIB_GROUPW, 0, "T",
	    { "/var/lib/anontel: is group- or world-writable", NULL } },
	{ "preferred and /var/lib read-only", P_RO, F_VARLIB_RO, 0, "T",
	    { "/tmp/pref: not writable", "/var/lib/anontel: cannot create", NULL } },
	{ "all read-only", P_RO, F_VARLIB_RO | F_TMP_RO, -1, "",
	    { "/tmp/pref: not writable", "/var/lib/anontel: cannot create",
	      "/tmp/anontel-" } },
	{ "/tmp/anontel-<uid> planted", P_NULL, F_VARLIB_RO | F_TMP_FOREIGN, -1, "",
	    { "owned by uid 65534, not", NULL } },
};

static void
open_one(const void *arg)
{
	const struct open_row *r = arg;
	char err[ERRLEN], want[64];
	struct state s;
	struct stat a, b;
	int rc;

	setup_candidates(r->pref, r->flags);
	want_of(r->want_dir, want, sizeof want);

	rc = state_open(&s, pref_path(r->pref), err, sizeof err);
	CHECKF(rc == r->want_rc, "%s: rc %d, want %d (%s)", r->name, rc, r->want_rc, err);
	CHECKF(strcmp(s.dir, want) == 0, "%s: dir \"%s\", want \"%s\"", r->name, s.dir, want);
	for (int i = 0; i < 3 && r->want_err[i] != NULL; i++) {
		if (r->want_err[i][0] == '\0')
			CHECKF(err[0] == '\0', "%s: err \"%s\", want empty", r->name, err);
		else
			CHECKF(strstr(err, r->want_err[i]) != NULL, "%s: err \"%s\" lacks \"%s\"",
			    r->name, err, r->want_err[i]);
	}
	if (rc == 0) {
		CHECKF(s.dirfd >= 0 && fstat(s.dirfd, &a) == 0 && stat(want, &b) == 0 &&
		    a.st_ino == b.st_ino && a.st_dev == b.st_dev, "%s: dirfd is not %s", r->name, want);
		CHECKF(mode_of(want, NULL) == 0700, "%s: mode %o", r->name, mode_of(want, NULL));
		CHECKF(s.lockfd == -1, "%s: lockfd", r->name);
	} else {
		CHECKF(s.dirfd == -1 && s.lockfd == -1, "%s: fds not -1", r->name);
	}
	if (r->pref == P_SYMLINK)
		CHECKF(mode_of("/tmp/real", NULL) == 0700, "%s: symlink target changed", r->name);
	if (r->pref == P_GROUPW)
		CHECKF(mode_of("/tmp/pref", NULL) == 0770, "%s: refused dir was repaired", r->name);
	if (r->pref == P_DEEP)
		CHECKF(mode_of("/tmp/a", NULL) == 0755 && mode_of("/tmp/a/b", NULL) == 0755 &&
		    mode_of("/tmp/a/b/c", NULL) == 0755, "%s: parents %o %o %o", r->name,
		    mode_of("/tmp/a", NULL), mode_of("/tmp/a/b", NULL), mode_of("/tmp/a/b/c", NULL));
	if (r->pref == P_LINK_FIRST)
		CHECKF(mode_of("/var", NULL) == 0755 && mode_of("/var/lib", NULL) == 0755 &&
		    !exists("/tmp"), "%s: parents %o %o", r->name, mode_of("/var", NULL),
		    mode_of("/var/lib", NULL));
	if (r->pref == P_STICKY || r->pref == P_STICKY_SUB)
		CHECKF(mode_of("/tmp/pref", NULL) == 01777, "%s: the sticky dir was changed", r->name);
	state_close(&s);
	state_close(&s);   /* twice is harmless */
}

static void
test_open_table(void)
{
	for (size_t i = 0; i < sizeof open_rows / sizeof open_rows[0]; i++)
		in_sandbox(open_one, &open_rows[i], 0);
}

struct find_row {
	const char *name;
	enum pref_setup pref;
	int flags;
	int want_rc;
	const char *want_dir;
	const char *want_err;
};

static const struct find_row find_rows[] = {
	{ "nothing yet", P_NULL, 0, 1, "/var/lib/anontel", "/var/lib/anontel: does not exist yet" },
	{ "var/lib exists", P_NULL, F_VARLIB_EXISTS, 0, "/var/lib/anontel", "" },
	{ "preferred exists", P_EXISTS, F_VARLIB_EXISTS, 0, "/tmp/pref", "" },
	{ "preferred missing", P_MISSING, F_VARLIB_EXISTS, 1, "/tmp/pref", "does not exist yet" },
	{ "preferred symlink", P_SYMLINK, F_VARLIB_EXISTS, 0, "/var/lib/anontel", "symbolic link" },
	{ "preferred ro, tmp", P_RO, F_VARLIB_RO | F_TMP_EXISTS, 0, "T", "not writable" },
	{ "all read-only, none", P_NULL, F_VARLIB_RO | F_TMP_RO, -1, "", "/tmp/anontel-" },
	{ "parents missing", P_DEEP, F_VARLIB_EXISTS, 1, "/tmp/a/b/c/pref", "does not exist yet" },
	{ "parent missing, read-only", P_NOPARENT, F_VARLIB_EXISTS | F_TMP_RO, 0,
	    "/var/lib/anontel", "/tmp/nope/pref: cannot create /tmp/nope: Read-only file system" },
	{ "symlink in the middle", P_LINK_MID, F_VARLIB_EXISTS, 0, "/var/lib/anontel",
	    "/tmp/link/x/pref: /tmp/link is a symbolic link (refused)" },
	{ "sticky, private subdir missing", P_STICKY, F_VARLIB_EXISTS, 1, "S",
	    "anontel-" },
	{ "sticky, private subdir exists", P_STICKY_SUB, F_VARLIB_EXISTS, 0, "S", "" },
	{ "sticky, private subdir a symlink", P_STICKY_LINK, F_VARLIB_EXISTS, 0, "/var/lib/anontel",
	    ": is a symbolic link (refused)" },
};

static void
find_one(const void *arg)
{
	const struct find_row *r = arg;
	char err[ERRLEN], want[64];
	struct state s;
	int rc;

	setup_candidates(r->pref, r->flags);
	want_of(r->want_dir, want, sizeof want);
	rc = state_find(&s, pref_path(r->pref), err, sizeof err);
	CHECKF(rc == r->want_rc, "%s: rc %d, want %d (%s)", r->name, rc, r->want_rc, err);
	CHECKF(strcmp(s.dir, want) == 0, "%s: dir \"%s\", want \"%s\"", r->name, s.dir, want);
	if (r->want_err[0] == '\0')
		CHECKF(err[0] == '\0', "%s: err \"%s\"", r->name, err);
	else
		CHECKF(strstr(err, r->want_err) != NULL, "%s: err \"%s\" lacks \"%s\"", r->name, err,
		    r->want_err);
	CHECKF((rc == 0) == (s.dirfd >= 0), "%s: dirfd %d", r->name, s.dirfd);
	if (rc != 0 && want[0] != '\0')
		CHECKF(!exists(want), "%s: state_find created %s", r->name, want);
	if (r->pref == P_DEEP)
		CHECKF(!exists("/tmp/a"), "%s: state_find made a parent", r->name);
	state_close(&s);

	/* state_open agrees with state_find. */
	if (want[0] != '\0') {
		rc = state_open(&s, pref_path(r->pref), err, sizeof err);
		CHECKF(rc == 0 && strcmp(s.dir, want) == 0, "%s: state_open picked \"%s\" (%s)",
		    r->name, s.dir, err);
		state_close(&s);
	}
}

static void
test_find_table(void)
{
	for (size_t i = 0; i < sizeof find_rows / sizeof find_rows[0]; i++)
		in_sandbox(find_one, &find_rows[i], 0);
}

/* ---- stamps -------------------------------------------------------------- */

struct rt_row {
	const char *name;
	struct state_stamps in;
	const char *want_error;    /* last_error after the round trip */
};

#define STAMPS(succ, built, next, jit, fail, drop, sent_, notice, error)                  \
	{ .last_success_ms = (succ), .last_built_ms = (built), .next_try_ms = (next),        \
	  .jitter_permille = (jit), .failures = (fail), .dropped = (drop), .sent = (sent_),  \
	  .notice_shown = (notice), .last_error = error }

static const struct rt_row rt_rows[] = {
	{ "defaults", STAMPS(0, 0, 0, -1, 0, 0, 0, 0, ""), "" },
	{ "typical", STAMPS(1700000000123, 1700000000100, 1700000600000, 43, 2, 3, 17, 1,
	    "HTTP 503"), "HTTP 503" },
	{ "jitter zero", STAMPS(1, 0, 0, 0, 0, 0, 0, 0, ""), "" },
	{ "extremes", STAMPS(INT64_MAX, INT64_MAX, INT64_MAX, 100, UINT32_MAX, UINT64_MAX,
	    UINT64_MAX, 1, "x"), "x" },
	{ "controls sanitized", STAMPS(5, 0, 0, -1, 0, 0, 0, 0, "line1\nline2\r\t\x7f!"),
	    "line1 line2   !" },
	{ "utf-8 kept", STAMPS(5, 0, 0, -1, 0, 0, 0, 0, "caf\xc3\xa9 \"q\" \\"),
	    "caf\xc3\xa9 \"q\" \\" },
	{ "only a newline", STAMPS(5, 0, 0, -1, 0, 0, 0, 0, "\n"), " " },
	{ "first report", { .jitter_permille = -1, .first_report_ms = 1700000000000 }, "" },
	{ "first report max", { .jitter_permille = -1, .first_report_ms = INT64_MAX }, "" },
};

static void
test_stamps_roundtrip(void)
{
	char dir[64], err[ERRLEN];
	struct state s;
	struct state_stamps got;

	tmpdir(dir, sizeof dir);
	open_in(&s, dir);
	CHECKF(state_read_stamps(&s, &got, err, sizeof err) == 0, "missing file: %s", err);
	CHECK(is_defaults(&got));
	for (size_t i = 0; i < sizeof rt_rows / sizeof rt_rows[0]; i++) {
		const struct rt_row *r = &rt_rows[i];
		struct state_stamps want = r->in;

		snprintf(want.last_error, sizeof want.last_error, "%s", r->want_error);
		CHECKF(state_write_stamps(&s, &r->in, err, sizeof err) == 0, "%s: write: %s",
		    r->name, err);
		memset(&got, 0x55, sizeof got);
		CHECKF(state_read_stamps(&s, &got, err, sizeof err) == 0, "%s: read: %s", r->name,
		    err);
		CHECKF(stamps_eq(&got, &want), "%s: round trip differs (last_error \"%s\")", r->name,
		    got.last_error);
	}
	CHECKF(mode_of(dir, "stamps") == 0600, "stamps mode %o", mode_of(dir, "stamps"));
	CHECK(count_tmp(dir) == 0);

	/* A last_error filling the whole array without a NUL: 255 bytes kept. */
	{
		struct state_stamps big = STAMPS(1, 0, 0, -1, 0, 0, 0, 0, "");
		memset(big.last_error, 'e', sizeof big.last_error);
		CHECKF(state_write_stamps(&s, &big, err, sizeof err) == 0, "big: %s", err);
		CHECKF(state_read_stamps(&s, &got, err, sizeof err) == 0, "big: %s", err);
		CHECK(strlen(got.last_error) == STATE_ERROR_MAX - 1 && got.last_error[0] == 'e');
	}
	state_close(&s);
	rm_rf(dir);
}

static void
test_stamps_format(void)
{
	static const struct {
		struct state_stamps st;
		const char *text;
	} rows[] = {
		{ STAMPS(1, 6, 2, 3, 7, 4, 5, 1, "boom"),
		    "last_success_ms 1\nlast_built_ms 6\nnext_try_ms 2\njitter_permille 3\n"
		    "failures 7\ndropped 4\nrejected 0\nsent 5\nnotice_shown 1\nlast_error boom\n" },
		{ STAMPS(0, 0, 0, -1, 0, 0, 0, 7, ""),
		    "last_success_ms 0\nlast_built_ms 0\nnext_try_ms 0\nfailures 0\ndropped 0\n"
		    "rejected 0\nsent 0\nnotice_shown 1\n" },
	};
	char dir[64], err[ERRLEN], text[1024];
	struct state s;

	tmpdir(dir, sizeof dir);
	open_in(&s, dir);
	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		CHECKF(state_write_stamps(&s, &rows[i].st, err, sizeof err) == 0, "row %zu: %s", i,
		    err);
		CHECK(get_file(dir, "stamps", text, sizeof text) >= 0);
		CHECK_STR(text, rows[i].text, "stamps bytes");
	}
	state_close(&s);
	rm_rf(dir);
}

static void
test_stamps_write_refused(void)
{
	static const struct state_stamps bad[] = {
		STAMPS(-1, 0, 0, -1, 0, 0, 0, 0, ""),
		STAMPS(0, 0, -5, -1, 0, 0, 0, 0, ""),
		STAMPS(0, 0, 0, -2, 0, 0, 0, 0, ""),
		STAMPS(INT64_MIN, 0, 0, 0, 0, 0, 0, 0, ""),
		STAMPS(0, -3, 0, 0, 0, 0, 0, 0, ""),
		STAMPS(0, 0, 0, 101, 0, 0, 0, 0, ""),
	};
	char dir[64], err[ERRLEN];
	struct state s;

	tmpdir(dir, sizeof dir);
	open_in(&s, dir);
	for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
		err[0] = '\0';
		CHECKF(state_write_stamps(&s, &bad[i], err, sizeof err) == -1, "row %zu accepted", i);
		CHECKF(strstr(err, "out of range refused") != NULL, "row %zu: err \"%s\"", i, err);
		CHECKF(!exists(dir) || mode_of(dir, "stamps") == -1, "row %zu wrote stamps", i);
	}
	state_close(&s);
	rm_rf(dir);
}

struct bad_row {
	const char *name;
	const char *text;
	size_t len;                /* 0 = strlen */
	const char *want;          /* err after "DIR/stamps: " */
};

static const struct bad_row bad_rows[] = {
	{ "unknown key", "last_success_ms 1\nbogus 2\n", 0, "line 2: unknown key \"bogus\"" },
	{ "key case", "SENT 1\n", 0, "line 1: unknown key \"SENT\"" },
	{ "duplicate", "sent 1\ndropped 0\nsent 2\n", 0, "line 3: duplicate key \"sent\"" },
	{ "12a", "sent 12a\n", 0, "line 1: not a decimal number: \"12a\"" },
	{ "missing value", "sent 1\nnext_try_ms\n", 0, "line 2: missing value for \"next_try_ms\"" },
	{ "missing value, space", "next_try_ms \n", 0, "line 1: missing value for \"next_try_ms\"" },
	{ "missing last_error", "last_error\n", 0, "line 1: missing value for \"last_error\"" },
	{ "negative", "jitter_ms -1\n", 0, "line 1: not a decimal number: \"-1\"" },
	{ "plus", "sent +1\n", 0, "line 1: not a decimal number: \"+1\"" },
	{ "leading zero", "sent 01\n", 0, "line 1: leading zero: \"01\"" },
	{ "two spaces", "sent  1\n", 0, "line 1: not a decimal number: \" 1\"" },
	{ "trailing space", "sent 1 \n", 0, "line 1: not a decimal number: \"1 \"" },
	{ "crlf", "sent 1\r\n", 0, "line 1: not a decimal number: \"1\\x0d\"" },
	{ "leading space", " sent 1\n", 0, "line 1: unknown key \"\"" },
	{ "empty line", "sent 1\n\ndropped 2\n", 0, "line 2: empty line" },
	{ "empty file line", "\n", 0, "line 1: empty line" },
	{ "no final newline", "sent 1\ndropped 2", 0, "line 2: no newline at end" },
	{ "nul in key", "se\0nt 1\n", 8, "line 1: unknown key \"se\\x00nt\"" },
	{ "nul in number", "sent 1\0\n", 8, "line 1: not a decimal number: \"1\\x00\"" },
	{ "control in last_error", "last_error a\tb\n", 0, "line 1: control character in last_error" },
	{ "del in last_error", "last_error a\x7f\n", 0, "line 1: control character in last_error" },
	{ "last_error 256", "last_error xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	    "xxxxxxxxxxxxxxxxxxxxxxxxxxxx\n", 0, "line 1: last_error too long" },
};

static void
test_stamps_malformed(void)
{
	char dir[64], err[ERRLEN], want[ERRLEN];
	struct state s;
	struct state_stamps got;

	tmpdir(dir, sizeof dir);
	open_in(&s, dir);
	for (size_t i = 0; i < sizeof bad_rows / sizeof bad_rows[0]; i++) {
		const struct bad_row *r = &bad_rows[i];

		put_file(dir, "stamps", r->text, r->len ? r->len : strlen(r->text));
		err[0] = '\0';
		memset(&got, 0x55, sizeof got);
		CHECKF(state_read_stamps(&s, &got, err, sizeof err) == -1, "%s: accepted", r->name);
		snprintf(want, sizeof want, "%s/stamps: %s", dir, r->want);
		CHECKF(strncmp(err, want, strlen(want)) == 0, "%s: err \"%s\", want \"%s\"", r->name,
		    err, want);
		CHECKF(is_defaults(&got), "%s: stamps not reset to defaults on error", r->name);
	}

	/* The 255-byte boundary is accepted; the 256 above is not. */
	{
		char line[300] = "last_error ";
		memset(line + 11, 'y', 255);
		line[266] = '\n';
		put_file(dir, "stamps", line, 267);
		CHECKF(state_read_stamps(&s, &got, err, sizeof err) == 0, "255 bytes: %s", err);
	}
	/* u64 max and i64 max are accepted. */
	put_file(dir, "stamps", "dropped 18446744073709551615\nnext_try_ms 9223372036854775807\n",
	    61);
	CHECKF(state_read_stamps(&s, &got, err, sizeof err) == 0, "max: %s", err);
	CHECK(got.dropped == UINT64_MAX && got.next_try_ms == INT64_MAX);
	/* Beyond a key's maximum: clamped to it, never wrapped or refused. */
	{
		static const char over[] = "dropped 99999999999999999999\n"
		    "last_success_ms 9223372036854775808\nnotice_shown 2\n"
		    "failures 4294967296\njitter_permille 500\nrejected 18446744073709551616\n";

		put_file(dir, "stamps", over, sizeof over - 1);
		CHECKF(state_read_stamps(&s, &got, err, sizeof err) == 0, "over: %s", err);
		CHECK(got.dropped == UINT64_MAX && got.last_success_ms == INT64_MAX &&
		    got.notice_shown == 1 && got.failures == UINT32_MAX &&
		    got.jitter_permille == STATE_JITTER_MAX && got.rejected == UINT64_MAX);
	}
	/* An earlier version's jitter_ms is read and forgotten: a per-mille is drawn. */
	put_file(dir, "stamps", "jitter_ms 2592000000\nsent 3\n", 28);
	CHECKF(state_read_stamps(&s, &got, err, sizeof err) == 0, "jitter_ms: %s", err);
	CHECK(got.jitter_permille == -1 && got.sent == 3);
	/* An empty file is valid: all defaults. */
	put_file(dir, "stamps", "", 0);
	CHECKF(state_read_stamps(&s, &got, err, sizeof err) == 0 && is_defaults(&got), "empty: %s",
	    err);
	/* Larger than 4 KiB. */
	{
		static char huge[5000];
		memset(huge, '\n', sizeof huge);
		put_file(dir, "stamps", huge, sizeof huge);
		CHECK(state_read_stamps(&s, &got, err, sizeof err) == -1);
		CHECKF(strstr(err, "stamps: larger than 4096 bytes") != NULL, "huge: %s", err);
	}
	state_close(&s);
	rm_rf(dir);
}

/* ---- kept messages ------------------------------------------------------- */

static void
test_keep_40(void)
{
	char dir[64], err[ERRLEN], msg[64], buf[64];
	uint64_t seq[STATE_MAX_KEPT + 1], got;
	size_t total;
	struct state s;
	int n;

	tmpdir(dir, sizeof dir);
	open_in(&s, dir);
	for (int i = 1; i <= 40; i++) {
		int len = snprintf(msg, sizeof msg, "{\"n\":%d}", i);
		CHECKF(state_keep(&s, msg, (size_t)len, &got, err, sizeof err) == 0,
		    "keep %d: %s", i, err);
		CHECKF(got == (uint64_t)i, "keep %d: seq %" PRIu64, i, got);
	}
	n = state_list_kept(&s, seq, STATE_MAX_KEPT + 1, &total, err, sizeof err);
	CHECKF(n == 33 && total == 40, "keeping never drops: %d/%zu", n, total);
	CHECKF(state_drop_below(&s, 9, err, sizeof err) == 0, "drop: %s", err);
	CHECKF(state_drop_below(&s, 9, err, sizeof err) == 0, "drop again: %s", err);
	n = state_list_kept(&s, seq, STATE_MAX_KEPT + 1, &total, err, sizeof err);
	CHECKF(n == 32 && total == 32, "list: %d/%zu %s", n, total, err);
	for (int i = 0; i < n && i < 32; i++) {
		ssize_t len;

		CHECKF(seq[i] == (uint64_t)(i + 9), "seq[%d] = %" PRIu64, i, seq[i]);
		len = state_read_kept(&s, seq[i], buf, sizeof buf - 1, err, sizeof err);
		CHECKF(len > 0, "read %" PRIu64 ": %s", seq[i], err);
		if (len > 0) {
			buf[len] = '\0';
			snprintf(msg, sizeof msg, "{\"n\":%d}", i + 9);
			CHECK_STR(buf, msg, "kept content");
		}
	}
	CHECK(!exists(strcat(strcpy(buf, dir), "/kept/00000000000000000008.json")));
	CHECKF(mode_of(dir, "kept") == 0700, "kept mode %o", mode_of(dir, "kept"));
	CHECKF(mode_of(dir, "kept/00000000000000000040.json") == 0600, "kept file mode");

	/* A short list: the oldest first, total still told. */
	n = state_list_kept(&s, seq, 5, &total, err, sizeof err);
	CHECKF(n == 5 && total == 32 && seq[0] == 9 && seq[4] == 13, "short list %d %zu", n, total);
	/* max 0 counts only. */
	n = state_list_kept(&s, NULL, 0, &total, err, sizeof err);
	CHECKF(n == 0 && total == 32, "count only %d %zu", n, total);
	state_close(&s);
	rm_rf(dir);
}

struct seq_row {
	const char *name;
	const char *files[8];      /* names planted in kept/ */
	int want_rc;
	uint64_t want_seq;
	uint64_t want_list[4];     /* listed before the keep, 0-terminated */
	size_t want_ignored;
};

static const struct seq_row seq_rows[] = {
	{ "empty", { NULL }, 0, 1, { 0 }, 0 },
	{ "one", { "00000000000000000005.json", NULL }, 0, 6, { 5, 0 }, 0 },
	{ "unsorted", { "00000000000000000100.json", "00000000000000000002.json",
	    "00000000000000000010.json", NULL }, 0, 101, { 2, 10, 100, 0 }, 0 },
	{ "strays ignored", { "5.json", "0000000000000000000a.json", "00000000000000000007.json.bak",
	    "99999999999999999999.json", "00000000000000000009.JSON", ".tmp-x-1",
	    "00000000000000000003.json", NULL }, 0, 4, { 3, 0 }, 5 },
	{ "u64 max name: not ours", { "18446744073709551615.json", NULL }, 0, 1, { 0 }, 1 },
	{ "above 2^62: not ours", { "04611686018427387905.json", NULL }, 0, 1, { 0 }, 1 },
	{ "2^62 is the last of ours", { "04611686018427387904.json", NULL }, -1, 0,
	    { UINT64_C(1) << 62, 0 }, 0 },
	{ "zero: not ours", { "00000000000000000000.json", NULL }, 0, 1, { 0 }, 1 },
};

static void
test_keep_sequence(void)
{
	char dir[64], kdir[128], err[ERRLEN];

	for (size_t i = 0; i < sizeof seq_rows / sizeof seq_rows[0]; i++) {
		const struct seq_row *r = &seq_rows[i];
		uint64_t seq[8], got = 99;
		size_t total, want_n = 0;
		struct state s;
		int n;

		tmpdir(dir, sizeof dir);
		snprintf(kdir, sizeof kdir, "%s/kept", dir);
		CHECK(mkdir(kdir, 0700) == 0);
		for (int f = 0; r->files[f] != NULL; f++)
			put_file(kdir, r->files[f], "{}", 2);
		open_in(&s, dir);
		while (want_n < 4 && r->want_list[want_n] != 0)
			want_n++;
		n = state_list_kept(&s, seq, 8, &total, err, sizeof err);
		CHECKF(s.kept_ignored == r->want_ignored, "%s: %zu ignored, want %zu", r->name,
		    s.kept_ignored, r->want_ignored);
		CHECKF(n == (int)want_n && total == want_n, "%s: listed %d (%zu), want %zu", r->name,
		    n, total, want_n);
		for (size_t k = 0; k < want_n && (int)k < n; k++)
			CHECKF(seq[k] == r->want_list[k], "%s: seq[%zu] = %" PRIu64, r->name, k, seq[k]);
		CHECKF(state_keep(&s, "{}", 2, &got, err, sizeof err) == r->want_rc,
		    "%s: keep rc (%s)", r->name, err);
		CHECKF(got == r->want_seq, "%s: seq %" PRIu64 ", want %" PRIu64, r->name, got,
		    r->want_seq);
		if (r->want_rc != 0)
			CHECKF(strstr(err, "exhausted") != NULL, "%s: err %s", r->name, err);
		state_close(&s);
		rm_rf(dir);
	}
}

/* A directory planted under the largest number of ours does not stop new messages:
 * they are numbered past our own, around the names taken. */
static void
test_keep_past_a_planted_top(void)
{
	char dir[64], kdir[128], path[256], err[ERRLEN];
	uint64_t got = 0, seq[4];
	struct state s;

	tmpdir(dir, sizeof dir);
	snprintf(kdir, sizeof kdir, "%s/kept", dir);
	CHECK(mkdir(kdir, 0700) == 0);
	snprintf(path, sizeof path, "%s/04611686018427387904.json", kdir);
	CHECK(mkdir(path, 0700) == 0);
	snprintf(path, sizeof path, "%s/00000000000000000001.json", kdir);
	CHECK(mkdir(path, 0700) == 0);
	open_in(&s, dir);
	CHECKF(state_keep(&s, "{}", 2, &got, err, sizeof err) == 0, "keep: %s", err);
	CHECKF(got == 2, "numbered %" PRIu64 ", want 2 (1 is taken)", got);
	CHECK(state_list_kept(&s, seq, 4, NULL, err, sizeof err) == 1 && seq[0] == 2);
	CHECK(s.kept_ignored == 2);
	state_close(&s);
	rm_rf(dir);
}

static void
test_drop_below_many(void)
{
	char dir[64], kdir[128], name[64], err[ERRLEN];
	uint64_t seq[STATE_MAX_KEPT], got;
	size_t total;
	struct state s;
	int n;

	tmpdir(dir, sizeof dir);
	snprintf(kdir, sizeof kdir, "%s/kept", dir);
	CHECK(mkdir(kdir, 0700) == 0);
	for (int i = 1; i <= 100; i++) {
		snprintf(name, sizeof name, "%020d.json", i * 3);
		put_file(kdir, name, "{}", 2);
	}
	open_in(&s, dir);
	CHECKF(state_keep(&s, "{}", 2, &got, err, sizeof err) == 0, "%s", err);
	CHECK(got == 301);
	/* More than a batch of STATE_MAX_KEPT below the limit: all of them go. */
	CHECKF(state_drop_below(&s, 70 * 3, err, sizeof err) == 0, "%s", err);
	n = state_list_kept(&s, seq, STATE_MAX_KEPT, &total, err, sizeof err);
	CHECKF(n == 32 && total == 32 && seq[0] == 70 * 3 && seq[30] == 300 && seq[31] == 301,
	    "after trim: %d %zu first %" PRIu64, n, total, seq[0]);
	state_close(&s);
	rm_rf(dir);
}

static void
test_read_remove(void)
{
	char dir[64], err[ERRLEN], buf[32];
	uint64_t seq[8], got;
	struct state s;
	ssize_t len;
	int n;

	tmpdir(dir, sizeof dir);
	open_in(&s, dir);
	/* Nothing kept yet: no kept/ directory at all. */
	CHECK(state_list_kept(&s, seq, 8, NULL, err, sizeof err) == 0);
	CHECK(state_read_kept(&s, 1, buf, sizeof buf, err, sizeof err) == -1);
	CHECK(state_remove_kept(&s, 1, err, sizeof err) == 0);

	CHECK(state_keep(&s, "one", 3, &got, err, sizeof err) == 0 && got == 1);
	CHECK(state_keep(&s, "two", 3, &got, err, sizeof err) == 0 && got == 2);
	CHECK(state_keep(&s, "", 0, &got, err, sizeof err) == 0 && got == 3);
	len = state_read_kept(&s, 2, buf, sizeof buf, err, sizeof err);
	CHECKF(len == 3 && memcmp(buf, "two", 3) == 0, "read 2: %zd %s", len, err);
	len = state_read_kept(&s, 3, buf, sizeof buf, err, sizeof err);
	CHECKF(len == 0, "read empty message: %zd %s", len, err);
	len = state_read_kept(&s, 2, buf, 2, err, sizeof err);
	CHECKF(len == -1 && strstr(err, "00000000000000000002.json: larger than 2 bytes"), "cap: %s",
	    err);
	len = state_read_kept(&s, 1, buf, 3, err, sizeof err);
	CHECKF(len == 3, "exact cap: %zd %s", len, err);

	CHECKF(state_remove_kept(&s, 2, err, sizeof err) == 0, "remove: %s", err);
	n = state_list_kept(&s, seq, 8, NULL, err, sizeof err);
	CHECKF(n == 2 && seq[0] == 1 && seq[1] == 3, "after remove: %d", n);
	len = state_read_kept(&s, 2, buf, sizeof buf, err, sizeof err);
	CHECKF(len == -1 && strstr(err, "kept/00000000000000000002.json: missing"), "read removed: %s",
	    err);
	CHECK(state_remove_kept(&s, 2, err, sizeof err) == 0);
	/* The next sequence is the highest + 1, not the gap. */
	CHECK(state_keep(&s, "four", 4, &got, err, sizeof err) == 0 && got == 4);
	/* Removing everything restarts at 1. */
	for (uint64_t q = 1; q <= 4; q++)
		CHECK(state_remove_kept(&s, q, err, sizeof err) == 0);
	CHECK(state_keep(&s, "again", 5, &got, err, sizeof err) == 0 && got == 1);
	/* Too large to keep. */
	{
		static char big[STATE_MSG_MAX + 1];
		CHECK(state_keep(&s, big, sizeof big, &got, err, sizeof err) == -1 && got == 0);
		CHECK(state_keep(&s, big, STATE_MSG_MAX, &got, err, sizeof err) == 0 && got == 2);
	}
	state_close(&s);
	/* Every call refuses a closed state. */
	CHECK(state_keep(&s, "x", 1, &got, err, sizeof err) == -1);
	CHECK_STR(err, "state directory not open", "closed");
	rm_rf(dir);
}

/* ---- named files --------------------------------------------------------- */

static void
test_files(void)
{
	char dir[64], err[ERRLEN], buf[16], p[128];
	struct state s;
	size_t len = 99;
	int rc;

	tmpdir(dir, sizeof dir);
	open_in(&s, dir);
	/* An earlier version's last.json, read while the log is empty. */
	rc = state_read_last(&s, buf, sizeof buf, &len, err, sizeof err);
	CHECKF(rc == 0 && len == 0, "missing: %d %zu", rc, len);
	put_file(dir, "last.json", "", 0);
	rc = state_read_last(&s, buf, sizeof buf, &len, err, sizeof err);
	CHECKF(rc == 1 && len == 0, "empty file: %d %zu (must differ from missing)", rc, len);
	put_file(dir, "last.json", "0123456789abcdef", 16);
	rc = state_read_last(&s, buf, sizeof buf, &len, err, sizeof err);
	CHECKF(rc == 1 && len == 16 && memcmp(buf, "0123456789abcdef", 16) == 0, "read back %d", rc);
	rc = state_read_last(&s, buf, 15, &len, err, sizeof err);
	CHECKF(rc == -1 && strstr(err, "last.json: larger than 15 bytes"), "cap: %s", err);
	/* A directory under the name is refused. */
	snprintf(p, sizeof p, "%s/last.json", dir);
	CHECK(unlink(p) == 0 && mkdir(p, 0700) == 0);
	CHECK(state_read_last(&s, buf, sizeof buf, &len, err, sizeof err) == -1);
	CHECKF(strstr(err, "last.json: is not a regular file (refused)"), "dir %s", err);
	CHECK(rmdir(p) == 0);
	rc = state_read_last(&s, buf, sizeof buf, &len, err, sizeof err);
	CHECK(rc == 0);
	{
		uint64_t seq;
		size_t total;

		CHECK(state_keep(&s, "{\"a\":1}", 7, &seq, err, sizeof err) == 0);
		CHECKF(state_deliver_kept(&s, seq, err, sizeof err) == 0, "deliver: %s", err);
		rc = state_read_last(&s, buf, sizeof buf, &len, err, sizeof err);
		CHECKF(rc == 1 && len == 7 && memcmp(buf, "{\"a\":1}", 7) == 0, "last %d", rc);
		CHECK(state_list_kept(&s, &seq, 1, &total, err, sizeof err) == 0 && total == 0);
		CHECK(state_deliver_kept(&s, seq, err, sizeof err) == -1);
	}
	/* A FIFO is refused at once (no hang waiting for a writer): an earlier
	 * version's last.json, read while the log is empty. */
	{
		snprintf(p, sizeof p, "%s/kept/00000000000000000001.sent", dir);
		CHECK(unlink(p) == 0);
		snprintf(p, sizeof p, "%s/last.json", dir);
		CHECK(mkfifo(p, 0600) == 0);
		alarm(5);
		rc = state_read_last(&s, buf, sizeof buf, &len, err, sizeof err);
		alarm(0);
		CHECKF(rc == -1 && strstr(err, "last.json: is not a regular file (refused)"), "fifo %s",
		    err);
	}
	CHECK(count_tmp(dir) == 0);
	state_close(&s);
	rm_rf(dir);
}

/* ---- random-id ----------------------------------------------------------- */

static void
test_random_id(void)
{
	char dir[64], err[ERRLEN], hex[STATE_RANDOM_HEX + 1], again[STATE_RANDOM_HEX + 1];
	char stale[64], path[128], kdir[128];
	struct state s;
	int rc;

	tmpdir(dir, sizeof dir);
	open_in(&s, dir);
	CHECKF(state_random_id(&s, 0, hex, err, sizeof err) == 0, "none yet, not made: %s", err);
	CHECK(access(strcat(strcpy(path, dir), "/random-id"), F_OK) != 0);
	/* A killed run's temp file with our pid does not stand in the way. Temp files
	 * are made in kept/. */
	snprintf(kdir, sizeof kdir, "%s/kept", dir);
	CHECK(mkdir(kdir, 0700) == 0);
	snprintf(stale, sizeof stale, ".tmp-random-id-%ld", (long)getpid());
	put_file(kdir, stale, "junk", 4);
	CHECKF(state_random_id(&s, 1, hex, err, sizeof err) == 1, "made: %s", err);
	CHECKF(strlen(hex) == STATE_RANDOM_HEX && strspn(hex, "0123456789abcdef") == STATE_RANDOM_HEX,
	    "64 lowercase hex: %s", hex);
	CHECK(mode_of(dir, "random-id") == 0600);
	CHECK(count_tmp(dir) == 0 && count_tmp(kdir) == 0);
	CHECKF(state_random_id(&s, 1, again, err, sizeof err) == 1 && strcmp(hex, again) == 0,
	    "made once, then read: %s", again);
	CHECKF(state_random_id(&s, 0, again, err, sizeof err) == 1 && strcmp(hex, again) == 0,
	    "read without create");
	put_file(dir, "random-id", "not hex", 7);
	rc = state_random_id(&s, 1, again, err, sizeof err);
	CHECKF(rc == -1 && strstr(err, "random-id: not 64 lowercase hex digits"),
	    "garbage is an error, not replaced: %d %s", rc, err);
	CHECK(unlink(path) == 0 && symlink("/etc/hostname", path) == 0);
	rc = state_random_id(&s, 1, again, err, sizeof err);
	CHECKF(rc == -1 && strstr(err, "random-id"), "a planted symlink is refused: %d %s", rc, err);
	state_close(&s);
	rm_rf(dir);
}

/* ---- lock ---------------------------------------------------------------- */

static void
test_lock(void)
{
	char dir[64], err[ERRLEN];
	struct state a, b;
	pid_t pid;
	int status;

	tmpdir(dir, sizeof dir);
	open_in(&a, dir);
	open_in(&b, dir);
	CHECKF(state_lock(&a, err, sizeof err) == 1, "first: %s", err);
	CHECKF(state_lock(&a, err, sizeof err) == 1, "again through the same state");
	/* The lock is the open file description's: a second state, even in this
	 * process, finds it held. */
	CHECKF(state_lock(&b, err, sizeof err) == 0, "same process, second state: %s", err);
	CHECK(b.lockfd == -1);
	CHECKF(mode_of(dir, "lock") == 0600, "lock mode %o", mode_of(dir, "lock"));

	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		struct state c;
		int r = state_open(&c, dir, err, sizeof err) == 0 ? state_lock(&c, err, sizeof err)
		    : -1;
		_exit(r == 0 ? 0 : 10 + r);
	}
	CHECK(waitpid(pid, &status, 0) == pid);
	CHECKF(WIFEXITED(status) && WEXITSTATUS(status) == 0, "child got %d", WEXITSTATUS(status));

	state_close(&a);
	CHECKF(state_lock(&b, err, sizeof err) == 1, "after release: %s", err);
	state_close(&b);

	/* check --report hands off with the lock held: a forked child keeps it
	 * after the parent has closed its copy, until the child is done. */
	open_in(&a, dir);
	CHECKF(state_lock(&a, err, sizeof err) == 1, "before the fork: %s", err);
	fflush(stdout);
	int pipefd[2];
	char c;
	CHECK(pipe(pipefd) == 0);
	pid = fork();
	if (pid == 0) {
		close(pipefd[1]);
		(void)read(pipefd[0], &c, 1);     /* until the parent has tested */
		_exit(0);
	}
	close(pipefd[0]);
	state_close(&a);
	open_in(&b, dir);
	CHECKF(state_lock(&b, err, sizeof err) == 0, "the child still holds it: %s", err);
	close(pipefd[1]);
	CHECK(waitpid(pid, &status, 0) == pid);
	CHECKF(state_lock(&b, err, sizeof err) == 1, "free once the child is gone: %s", err);
	state_close(&b);
	rm_rf(dir);
}

static void
test_lock_cleans_tmp(void)
{
	char dir[64], kdir[128], err[ERRLEN], buf[16];
	struct state s;

	tmpdir(dir, sizeof dir);
	snprintf(kdir, sizeof kdir, "%s/kept", dir);
	CHECK(mkdir(kdir, 0700) == 0);
	put_file(kdir, ".tmp-stamps", "torn", 4);
	put_file(kdir, ".tmp-random-id-1", "x", 1);
	put_file(kdir, ".tmp-00000000000000000003.json-77", "{", 1);
	put_file(kdir, "00000000000000000002.json", "{}", 2);
	put_file(dir, ".tmpfoo", "not ours", 8);
	open_in(&s, dir);
	CHECK(count_tmp(kdir) == 3);
	/* An unlocked listing (status) leaves them: a write may be in progress. */
	{
		uint64_t seq;
		size_t total;

		CHECK(state_list_kept(&s, &seq, 1, &total, err, sizeof err) == 1 && total == 1);
		CHECK(count_tmp(kdir) == 3);
		CHECKF(state_lock(&s, err, sizeof err) == 1, "%s", err);
		/* The lock holder's first listing removes the killed runs' temp files. */
		CHECK(state_list_kept(&s, &seq, 1, &total, err, sizeof err) == 1 && total == 1);
		CHECK(count_tmp(kdir) == 0);
	}
	CHECK(get_file(dir, ".tmpfoo", buf, sizeof buf) == 8);
	CHECK(get_file(kdir, "00000000000000000002.json", buf, sizeof buf) == 2);
	/* The lock holder's temp name left by a killed run does not block a write. */
	{
		struct state_stamps st = STAMPS(1, 0, 2, 3, 0, 4, 5, 0, "");
		put_file(kdir, ".tmp-stamps", "old and longer than nothing", 27);
		CHECKF(state_write_stamps(&s, &st, err, sizeof err) == 0, "stale own temp: %s", err);
		CHECK(count_tmp(kdir) == 0 && count_tmp(dir) == 0);
		CHECKF(state_read_stamps(&s, &st, err, sizeof err) == 0 && st.last_success_ms == 1,
		    "%s", err);
	}
	state_close(&s);
	rm_rf(dir);
}

/* ---- symlinks ------------------------------------------------------------ */

static void
test_symlink_stamps(void)
{
	char dir[64], outside[64], target[128], link[128], err[ERRLEN], buf[64];
	struct state s;
	struct state_stamps st = STAMPS(1, 0, 2, 3, 0, 4, 5, 1, "x");
	struct stat sb;

	tmpdir(dir, sizeof dir);
	tmpdir(outside, sizeof outside);
	snprintf(target, sizeof target, "%s/precious", outside);
	snprintf(link, sizeof link, "%s/stamps", dir);
	put_file(outside, "precious", "precious\n", 9);
	CHECK(symlink(target, link) == 0);
	open_in(&s, dir);
	CHECK(state_lock(&s, err, sizeof err) == 1);

	CHECK(state_write_stamps(&s, &st, err, sizeof err) == -1);
	CHECKF(strstr(err, "/stamps: is a symbolic link (refused)") != NULL, "write: %s", err);
	CHECK(get_file(outside, "precious", buf, sizeof buf) == 9);
	CHECK_STR(buf, "precious\n", "symlink target");
	CHECK(lstat(link, &sb) == 0 && S_ISLNK(sb.st_mode));
	CHECK(count_tmp(dir) == 0);

	CHECK(state_read_stamps(&s, &st, err, sizeof err) == -1);
	CHECKF(strstr(err, "/stamps: is a symbolic link (refused)") != NULL, "read: %s", err);

	/* Same for the generic files and the lock. */
	snprintf(link, sizeof link, "%s/random-id", dir);
	CHECK(symlink(target, link) == 0);
	{
		char hex[STATE_RANDOM_HEX + 1];
		CHECK(state_random_id(&s, 0, hex, err, sizeof err) == -1);
		CHECKF(strstr(err, "/random-id: is a symbolic link (refused)") != NULL, "id: %s", err);
	}
	state_close(&s);
	snprintf(link, sizeof link, "%s/lock", dir);
	CHECK(unlink(link) == 0 && symlink(target, link) == 0);
	open_in(&s, dir);
	CHECK(state_lock(&s, err, sizeof err) == -1);
	CHECKF(strstr(err, "/lock: is a symbolic link (refused)") != NULL, "lock: %s", err);
	CHECK(get_file(outside, "precious", buf, sizeof buf) == 9);
	CHECK_STR(buf, "precious\n", "symlink target after all");
	state_close(&s);
	rm_rf(dir);
	rm_rf(outside);
}

static void
test_symlink_kept(void)
{
	char dir[64], outside[64], target[128], link[128], kdir[128], err[ERRLEN], buf[64];
	uint64_t seq[4], got;
	struct state s;

	tmpdir(dir, sizeof dir);
	tmpdir(outside, sizeof outside);
	snprintf(target, sizeof target, "%s/secret", outside);
	put_file(outside, "secret", "{\"secret\":1}", 12);
	snprintf(kdir, sizeof kdir, "%s/kept", dir);
	CHECK(mkdir(kdir, 0700) == 0);
	snprintf(link, sizeof link, "%s/00000000000000000001.json", kdir);
	CHECK(symlink(target, link) == 0);
	open_in(&s, dir);

	/* Not ours: not listed, counted as ignored, left where it is. */
	CHECK(state_list_kept(&s, seq, 4, NULL, err, sizeof err) == 0 && s.kept_ignored == 1);
	CHECK(state_read_kept(&s, 1, buf, sizeof buf, err, sizeof err) == -1);
	CHECKF(strstr(err, "kept/00000000000000000001.json: is a symbolic link (refused)") != NULL,
	    "%s", err);
	/* The next keep takes the next number: it neither replaces nor writes through it. */
	CHECK(state_keep(&s, "{}", 2, &got, err, sizeof err) == 0 && got == 2);
	CHECK(state_list_kept(&s, seq, 4, NULL, err, sizeof err) == 1 && seq[0] == 2);
	CHECK(exists(link));
	CHECK(get_file(outside, "secret", buf, sizeof buf) == 12);
	state_close(&s);

	/* kept/ itself a symlink: refused. */
	rm_rf(kdir);
	CHECK(symlink(outside, kdir) == 0);
	open_in(&s, dir);
	CHECK(state_keep(&s, "{}", 2, &got, err, sizeof err) == -1);
	CHECKF(strstr(err, "/kept: is a symbolic link (refused)") != NULL, "%s", err);
	CHECK(state_list_kept(&s, seq, 4, NULL, err, sizeof err) == -1);
	state_close(&s);
	rm_rf(dir);
	rm_rf(outside);
}

/* ---- crash safety -------------------------------------------------------- */

static const struct state_stamps crash_a = STAMPS(1000, 0, 0, -1, 0, 1, 2, 0, "");
static const struct state_stamps crash_b = STAMPS(1700000000000, 1699999999999, 1700000099999,
	42, 3, 7, 99, 1,
	"a long last error to make the file bigger: xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
	"xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");

static void
test_crash(void)
{
	char dir[64], kdir[128], err[ERRLEN];
	struct state s;
	int leftovers = 0, saw_b = 0;

	/* On the real disk (not tmpfs), where state lives. A write's temp file exists
	 * from its creation until the old stamps swapped out under its name are
	 * removed, most of each write, so most kills leave one. */
	snprintf(dir, sizeof dir, "build/test_state-crash-XXXXXX");
	if (mkdtemp(dir) == NULL) {
		CHECKF(0, "mkdtemp: %s", strerror(errno));
		return;
	}
	snprintf(kdir, sizeof kdir, "%s/kept", dir);   /* where temp files are made */
	srand((unsigned)time(NULL) ^ (unsigned)getpid());
	printf("# crash dir %s\n", dir);
	{
		char abs[4200];
		CHECK(realpath(dir, abs) != NULL);
		snprintf(dir, sizeof dir, "%s", abs);
	}
	open_in(&s, dir);
	CHECK(state_write_stamps(&s, &crash_a, err, sizeof err) == 0);
	for (int round = 0; round < 200; round++) {
		struct state_stamps got;
		int pfd[2], status;
		char c;
		pid_t pid;

		CHECK(pipe(pfd) == 0);
		fflush(stdout);
		pid = fork();
		if (pid == 0) {
			close(pfd[0]);
			for (unsigned long i = 0;; i++) {
				if (state_write_stamps(&s, i % 2 ? &crash_a : &crash_b, NULL, 0) != 0)
					_exit(3);
				if (i == 0 && write(pfd[1], "r", 1) != 1)
					_exit(4);
			}
		}
		close(pfd[1]);
		if (read(pfd[0], &c, 1) != 1)
			CHECKF(0, "round %d: child did not start", round);
		close(pfd[0]);
		usleep((useconds_t)(rand() % 3000));
		kill(pid, SIGKILL);
		CHECK(waitpid(pid, &status, 0) == pid);
		CHECKF(WIFSIGNALED(status), "round %d: child exited %d", round, WEXITSTATUS(status));

		leftovers += count_tmp(kdir) > 0;
		memset(&got, 0, sizeof got);
		CHECKF(state_read_stamps(&s, &got, err, sizeof err) == 0, "round %d: %s", round, err);
		CHECKF(stamps_eq(&got, &crash_a) || stamps_eq(&got, &crash_b),
		    "round %d: neither old nor new", round);
		saw_b += stamps_eq(&got, &crash_b);

		CHECK(state_lock(&s, err, sizeof err) == 1);
		CHECK(state_list_kept(&s, NULL, 0, NULL, err, sizeof err) == 0);
		CHECKF(count_tmp(kdir) == 0 && count_tmp(dir) == 0,
		    "round %d: temp file survived the lock holder's listing", round);
		state_close(&s);
		open_in(&s, dir);
		if (check_failures > 5)
			break;
	}
	printf("# crash: %d of 200 kills left a temp file; %d ended on the new values\n", leftovers,
	    saw_b);
	CHECKF(leftovers > 0, "no kill landed inside a write: the test did not test");
	state_close(&s);
	rm_rf(dir);
}

/* A directory planted at stamps after the lock holder read it (so the write swaps
 * without a look) is put back and the write refused; no temp file is left, and what
 * was planted is as it was. */
static void
test_planted_dir_not_swapped_away(void)
{
	char dir[64], p[160], err[ERRLEN] = "";
	struct state_stamps st;
	struct state s;

	tmpdir(dir, sizeof dir);
	open_in(&s, dir);
	CHECK(state_lock(&s, err, sizeof err) == 1);
	CHECK(state_write_stamps(&s, &crash_a, err, sizeof err) == 0);
	CHECK(state_read_stamps(&s, &st, err, sizeof err) == 0);
	snprintf(p, sizeof p, "%s/stamps", dir);
	CHECK(unlink(p) == 0 && mkdir(p, 0700) == 0);
	put_file(p, "inside", "x", 1);
	CHECK(state_write_stamps(&s, &crash_b, err, sizeof err) == -1);
	CHECKF(strstr(err, "/stamps: is not a regular file (refused)") != NULL, "err: %s", err);
	snprintf(p, sizeof p, "%s/stamps/inside", dir);
	CHECKF(access(p, F_OK) == 0, "the planted directory is back, whole");
	snprintf(p, sizeof p, "%s/kept", dir);
	CHECK(count_tmp(p) == 0 && count_tmp(dir) == 0);
	state_close(&s);
	rm_rf(dir);
}

/* ---- full disk ----------------------------------------------------------- */

static void
full_disk(const void *arg)
{
	static char msg[8192];
	static const struct state_stamps old = STAMPS(1234, 0, 0, 55, 0, 0, 3, 1, "old");
	static const struct state_stamps neu = STAMPS(5678, 0, 0, 55, 0, 0, 4, 1, "new");
	char err[ERRLEN], chunk[4096];
	struct state_stamps got;
	struct state s;
	uint64_t seq[4], got_seq = 9;
	int fd;

	(void)arg;
	mount_tmpfs("/tmp/full", "size=64k,mode=0700", 0);
	open_in(&s, "/tmp/full");
	CHECK(state_lock(&s, err, sizeof err) == 1);
	CHECKF(state_write_stamps(&s, &old, err, sizeof err) == 0, "%s", err);
	CHECKF(state_keep(&s, "{\"first\":1}", 11, &got_seq, err, sizeof err) == 0, "%s",
	    err);

	memset(chunk, 'f', sizeof chunk);
	fd = open("/tmp/full/filler", O_WRONLY | O_CREAT, 0600);
	CHECK(fd >= 0);
	while (write(fd, chunk, sizeof chunk) > 0)
		;
	while (write(fd, chunk, 1) > 0)
		;
	CHECKF(errno == ENOSPC, "filling: %s", strerror(errno));
	close(fd);

	memset(msg, 'm', sizeof msg);
	CHECK(state_keep(&s, msg, sizeof msg, &got_seq, err, sizeof err) == -1);
	CHECKF(strstr(err, "No space") != NULL, "keep err: %s", err);
	CHECK(got_seq == 0);
	CHECKF(state_read_stamps(&s, &got, err, sizeof err) == 0 && stamps_eq(&got, &old),
	    "stamps after failed keep: %s", err);
	CHECK(state_list_kept(&s, seq, 4, NULL, err, sizeof err) == 1 && seq[0] == 1);

	CHECK(state_write_stamps(&s, &neu, err, sizeof err) == -1);
	CHECKF(strstr(err, "No space") != NULL, "stamps err: %s", err);
	CHECKF(state_read_stamps(&s, &got, err, sizeof err) == 0 && stamps_eq(&got, &old),
	    "stamps after failed write: %s", err);
	CHECK(count_tmp("/tmp/full") == 0 && count_tmp("/tmp/full/kept") == 0);

	/* Space back: both work. */
	CHECK(unlink("/tmp/full/filler") == 0);
	CHECKF(state_keep(&s, msg, sizeof msg, &got_seq, err, sizeof err) == 0, "%s", err);
	CHECK(got_seq == 2);
	CHECKF(state_write_stamps(&s, &neu, err, sizeof err) == 0, "%s", err);
	state_close(&s);
}

static void
test_full_disk(void)
{
	in_sandbox(full_disk, NULL, 0);
}

/* Delivers n new messages "{"n":i}" under the lock. */
static void
deliver_n(struct state *s, int from, int n)
{
	char err[ERRLEN], msg[32];
	uint64_t seq;

	for (int i = from; i < from + n; i++) {
		int len = snprintf(msg, sizeof msg, "{\"n\":%d}", i);

		CHECKF(state_keep(s, msg, (size_t)len, &seq, err, sizeof err) == 0, "keep: %s", err);
		CHECKF(state_deliver_kept(s, seq, err, sizeof err) == 0, "deliver: %s", err);
	}
}

/* The audit log: delivered messages renamed to kept/N.sent, the last
 * STATE_LOG_MAX kept, oldest dropped; status --last is the newest; new numbers
 * go past the log, also once no message waits; an earlier version's last.json
 * goes at the first logged delivery. Under the lock and without it. */
static void
test_audit_log(void)
{
	char dir[64], err[ERRLEN], buf[64], path[160];
	uint64_t seq[STATE_LOG_MAX + 1], got;
	size_t total, len;
	struct state s;
	ssize_t n;
	int k;

	tmpdir(dir, sizeof dir);
	put_file(dir, "last.json", "{\"old\":1}", 9);
	open_in(&s, dir);
	CHECK(state_read_last(&s, buf, sizeof buf, &len, err, sizeof err) == 1 && len == 9);
	CHECK(state_list_log(&s, seq, STATE_LOG_MAX, &total, err, sizeof err) == 0 && total == 0);
	CHECK(state_lock(&s, err, sizeof err) == 1);
	deliver_n(&s, 1, 40);
	snprintf(path, sizeof path, "%s/last.json", dir);
	CHECK(!exists(path));
	k = state_list_log(&s, seq, STATE_LOG_MAX + 1, &total, err, sizeof err);
	CHECKF(k == STATE_LOG_MAX && total == STATE_LOG_MAX && seq[0] == 9 && seq[31] == 40,
	    "log: %d %zu %" PRIu64 "..%" PRIu64, k, total, seq[0], seq[k > 0 ? k - 1 : 0]);
	CHECK(state_list_kept(&s, seq, 1, &total, err, sizeof err) == 0 && total == 0);
	CHECK(state_read_last(&s, buf, sizeof buf, &len, err, sizeof err) == 1);
	CHECK(len == 8 && memcmp(buf, "{\"n\":40}", 8) == 0);
	n = state_read_log(&s, 9, buf, sizeof buf, err, sizeof err);
	CHECK(n == 7 && memcmp(buf, "{\"n\":9}", 7) == 0);
	CHECK(state_read_log(&s, 8, buf, sizeof buf, err, sizeof err) == -1);
	snprintf(path, sizeof path, "%s/kept/00000000000000000009.sent", dir);
	CHECKF(mode_of(path, NULL) == 0600, "log entry mode %o", mode_of(path, NULL));
	/* Nothing waits: the next number is still past the log. */
	CHECK(state_keep(&s, "{}", 2, &got, err, sizeof err) == 0 && got == 41);
	CHECK(state_remove_kept(&s, got, err, sizeof err) == 0);
	state_close(&s);
	/* Without the lock (another listing each time): still at most STATE_LOG_MAX. */
	open_in(&s, dir);
	deliver_n(&s, 42, 3);
	k = state_list_log(&s, seq, STATE_LOG_MAX + 1, &total, err, sizeof err);
	CHECKF(k == STATE_LOG_MAX && total == STATE_LOG_MAX && seq[0] == 12, "unlocked: %d %zu %"
	    PRIu64, k, total, seq[0]);
	/* A log entry that is not a regular file is not ours: not listed, not removed. */
	snprintf(path, sizeof path, "%s/kept/00000000000000000007.sent", dir);
	CHECK(mkdir(path, 0700) == 0);
	CHECK(state_list_log(&s, seq, 1, &total, err, sizeof err) == 1 && total == STATE_LOG_MAX);
	CHECK(s.kept_ignored == 1);
	state_close(&s);
	rm_rf(dir);
}

/* forget: kept messages, the log, last.json and random-id go; what is not
 * anontel's stays; a second forget finds nothing. */
static void
test_forget(void)
{
	char dir[64], err[ERRLEN], path[160], hex[STATE_RANDOM_HEX + 1];
	struct state_forgotten f;
	struct state s;
	uint64_t seq;

	tmpdir(dir, sizeof dir);
	open_in(&s, dir);
	CHECK(state_forget(&s, &f, err, sizeof err) == 0);
	CHECK(f.kept == 0 && f.logged == 0 && f.random_id == 0);
	CHECK(state_lock(&s, err, sizeof err) == 1);
	deliver_n(&s, 1, 2);
	CHECK(state_keep(&s, "{}", 2, &seq, err, sizeof err) == 0);
	CHECK(state_random_id(&s, 1, hex, err, sizeof err) == 1);
	put_file(dir, "last.json", "{}", 2);
	snprintf(path, sizeof path, "%s/kept/00000000000000000099.json", dir);
	CHECK(mkdir(path, 0700) == 0);
	snprintf(path, sizeof path, "%s/kept", dir);
	put_file(path, "notes.txt", "x", 1);
	put_file(path, ".tmp-00000000000000000004.json", "x", 1);
	CHECKF(state_forget(&s, &f, err, sizeof err) == 0, "forget: %s", err);
	CHECKF(f.kept == 1 && f.logged == 3 && f.random_id == 1, "removed %zu %zu %d", f.kept,
	    f.logged, f.random_id);
	CHECK(count_tmp(path) == 0);
	CHECK(exists(path));
	snprintf(path, sizeof path, "%s/kept/notes.txt", dir);
	CHECK(exists(path));
	snprintf(path, sizeof path, "%s/kept/00000000000000000099.json", dir);
	CHECK(exists(path));
	snprintf(path, sizeof path, "%s/lock", dir);
	CHECK(exists(path));
	CHECK(state_random_id(&s, 0, hex, err, sizeof err) == 0);
	CHECK(state_forget(&s, &f, err, sizeof err) == 0);
	CHECK(f.kept == 0 && f.logged == 0 && f.random_id == 0);
	/* Numbers go on past what is left (the planted 99). */
	CHECK(state_keep(&s, "{}", 2, &seq, err, sizeof err) == 0 && seq == 100);
	state_close(&s);
	rm_rf(dir);
}

/* state_lock_existing never makes the lock file; it takes an existing one, and
 * says 0 while another holds it. */
static void
test_lock_existing(void)
{
	char dir[64], err[ERRLEN], path[160];
	struct state a, b;

	tmpdir(dir, sizeof dir);
	snprintf(path, sizeof path, "%s/lock", dir);
	open_in(&a, dir);
	CHECK(state_lock_existing(&a, err, sizeof err) == 1 && a.lockfd == -1);
	CHECK(!exists(path));
	open_in(&b, dir);
	CHECK(state_lock(&b, err, sizeof err) == 1);
	CHECK(state_lock_existing(&a, err, sizeof err) == 0);
	state_close(&b);
	CHECK(state_lock_existing(&a, err, sizeof err) == 1 && a.lockfd >= 0);
	open_in(&b, dir);
	CHECK(state_lock(&b, err, sizeof err) == 0);
	state_close(&b);
	state_close(&a);
	rm_rf(dir);
}

/* A drop limit recorded before a forget is stale: the new messages below it are
 * kept. */
static void
test_drop_below_stale(void)
{
	char dir[64], err[ERRLEN];
	uint64_t seq[4];
	size_t total;
	struct state s;

	tmpdir(dir, sizeof dir);
	open_in(&s, dir);
	CHECK(state_keep(&s, "{}", 2, &seq[0], err, sizeof err) == 0);
	CHECK(state_keep(&s, "{}", 2, &seq[0], err, sizeof err) == 0 && seq[0] == 2);
	CHECK(state_drop_below(&s, 30, err, sizeof err) == 0);
	CHECK(state_list_kept(&s, seq, 4, &total, err, sizeof err) == 2 && total == 2);
	CHECK(state_drop_below(&s, 2, err, sizeof err) == 0);
	CHECK(state_list_kept(&s, seq, 4, &total, err, sizeof err) == 1 && seq[0] == 2);
	state_close(&s);
	rm_rf(dir);
}

static const struct check_case cases[] = {
	{ "open_table", test_open_table },
	{ "find_table", test_find_table },
	{ "stamps_roundtrip", test_stamps_roundtrip },
	{ "stamps_format", test_stamps_format },
	{ "stamps_write_refused", test_stamps_write_refused },
	{ "stamps_malformed", test_stamps_malformed },
	{ "keep_past_a_planted_top", test_keep_past_a_planted_top },
	{ "keep_40", test_keep_40 },
	{ "keep_sequence", test_keep_sequence },
	{ "drop_below_many", test_drop_below_many },
	{ "read_remove", test_read_remove },
	{ "files", test_files },
	{ "random_id", test_random_id },
	{ "lock", test_lock },
	{ "lock_cleans_tmp", test_lock_cleans_tmp },
	{ "symlink_stamps", test_symlink_stamps },
	{ "symlink_kept", test_symlink_kept },
	{ "crash", test_crash },
	{ "planted_dir_not_swapped_away", test_planted_dir_not_swapped_away },
	{ "full_disk", test_full_disk },
	{ "audit_log", test_audit_log },
	{ "forget", test_forget },
	{ "lock_existing", test_lock_existing },
	{ "drop_below_stale", test_drop_below_stale },
};

CHECK_MAIN(cases)
