/*
 * state: the state directory. See state.h for the contract.
 *
 * Why it is written this way:
 * - Every name is resolved relative to the directory fd, never by path, so a
 *   directory renamed or swapped after state_open cannot redirect our writes.
 * - The directory itself is reached by openat() one component at a time from
 *   "/", each O_NOFOLLOW, not by open(path): that is the only way to refuse a
 *   symlink in any component (O_NOFOLLOW alone checks the last) and to make
 *   missing parents without a check-then-use race on the path.
 * - Directory listing uses getdents64 directly: opendir() would pull malloc
 *   into the static binary for one DIR buffer.
 * - Files are read through file.h (O_NONBLOCK, regular files only), so a FIFO
 *   planted under a state name cannot hang a HEALTHCHECK run.
 */
#include "state.h"

#include "ascii.h"
#include "buf.h"
#include "file.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>     /* renameat() only: no stdio streams or printf here */
#include <string.h>
#include <dirent.h>
#include <sys/random.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#ifndef RENAME_EXCHANGE
#define RENAME_EXCHANGE (1 << 1)   /* linux/fs.h; musl 1.2.3 has no renameat2() */
#endif

#define STAMPS_NAME  "stamps"
#define KEPT_NAME    "kept"
#define KEPT_SUFFIX  ".json"  /* kept/N.json: waiting to be sent */
#define LOG_SUFFIX   ".sent"  /* kept/N.sent: delivered, the audit log */
#define LAST_NAME    "last.json"
#define LOCK_NAME    "lock"
#define RANDOM_NAME  "random-id"
#define TMP_PREFIX   ".tmp-"
#define STAMPS_CAP   4096   /* a valid stamps file is < 700 bytes */
#define NAME_MAX_LEN 64     /* of a name a temp file is made for */
#define KEPT_DIGITS  20

#define OPEN_DIR   (O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC)
#ifndef O_PATH      /* glibc hides it without _GNU_SOURCE; the kernel's value */
#define O_PATH     010000000
#endif

#define DEFAULT_DIR  "/var/lib/anontel"   /* then /tmp/anontel-<euid> */

/* ---- error text ---------------------------------------------------------- */

/* Writes "DIR[/sub][/name]: what[: strerror(e)]" into err; returns -1, for the
 * caller's return. */
static int
path_err(char *err, size_t errlen, const struct state *s, const char *sub, const char *name,
    const char *what, int e)
{
	/* After DIR, each part there is: "/" before the path's, ": " before the others. */
	const char *part[] = { sub, name, what, e != 0 ? strerror(e) : NULL };
	struct buf b;

	if (err == NULL || errlen == 0)
		return -1;
	buf_init(&b, err, errlen);
	buf_str(&b, s->dir);
	for (size_t i = 0; i < sizeof part / sizeof part[0]; i++) {
		if (part[i] != NULL) {
			buf_str(&b, i < 2 ? "/" : ": ");
			buf_str(&b, part[i]);
		}
	}
	return -1;
}

/* path_err for name (may be NULL) in the state dir itself. */
static int
set_err(char *err, size_t errlen, const struct state *s, const char *name, const char *what, int e)
{
	return path_err(err, errlen, s, NULL, name, what, e);
}

/* path_err for name (may be NULL) in kept/. */
static int
kept_err(char *err, size_t errlen, const struct state *s, const char *name, const char *what, int e)
{
	return path_err(err, errlen, s, KEPT_NAME, name, what, e);
}

/* path_err for an open of an existing name that failed (errno), with the case a
 * person must tell apart (a planted symlink) named plainly. */
static int
open_err(char *err, size_t errlen, const struct state *s, const char *sub, const char *name)
{
	if (errno == ELOOP)
		return path_err(err, errlen, s, sub, name, "is a symbolic link (refused)", 0);
	return path_err(err, errlen, s, sub, name, "cannot open", errno);
}

/* ---- small helpers ------------------------------------------------------- */

/* Whether we may write and search directory dfd: faccessat(dfd, ".", W_OK | X_OK,
 * 0) made directly, as musl does for flags 0; its wrapper would bring along the
 * AT_EACCESS fallback (a cloned child and a pipe) that no caller here uses. */
static int
dir_writable(int dfd)
{
	return syscall(SYS_faccessat, dfd, ".", W_OK | X_OK) == 0;
}

static int
write_all(int fd, const void *p, size_t n)
{
	const char *c = p;

	while (n > 0) {
		ssize_t w = write(fd, c, n);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (w == 0) {
			errno = EIO;
			return -1;
		}
		c += w;
		n -= (size_t)w;
	}
	return 0;
}

/* Strict unsigned decimal: digits only, no sign, no leading zero, <= max.
 * Returns 0, or -1 not a number, -2 out of range, -3 leading zero. */
static int
parse_u64(const char *p, size_t n, uint64_t max, uint64_t *out)
{
	uint64_t v = 0;
	int big = 0;

	if (n == 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		unsigned d = (unsigned)(p[i] - '0');
		if (d > 9)
			return -1;
		big |= d > max || v > (max - d) / 10;
		v = v * 10 + d;
	}
	if (n > 1 && p[0] == '0')
		return -3;
	if (big)
		return -2;
	*out = v;
	return 0;
}

/* openat of a subdirectory with flags (OPEN_DIR, or O_PATH's); a symlink fails
 * with ELOOP (O_NOFOLLOW with O_DIRECTORY reports ENOTDIR for it on Linux). */
static int
open_dir_at(int dfd, const char *name, int flags)
{
	int fd = openat(dfd, name, flags);

	if (fd < 0 && errno == ENOTDIR) {
		struct stat st;
		if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISLNK(st.st_mode))
			errno = ELOOP;
		else
			errno = ENOTDIR;
	}
	return fd;
}

/* 0, or -1 with "state directory not open" in err (every call refuses a closed
 * state). */
static int
need_open(const struct state *s, char *err, size_t errlen)
{
	if (s->dirfd >= 0)
		return 0;
	buf_join(err, errlen, "state directory not open", NULL, NULL);
	return -1;
}

/* What kept_dir does when kept/ is missing. */
enum { KEPT_FIND, KEPT_NEED, KEPT_MAKE };

/* kept/'s fd, s->keptfd: opened once per state and kept open; when missing, made
 * (0700) with KEPT_MAKE, an error with KEPT_NEED. Returns 1; 0 when it is
 * missing with KEPT_FIND (nothing is kept); -1 with err, also when the state is
 * not open (need_open). */
static int
kept_dir(struct state *s, int how, char *err, size_t errlen)
{
	if (need_open(s, err, errlen) != 0)
		return -1;
	if (s->keptfd < 0) {
		s->keptfd = open_dir_at(s->dirfd, KEPT_NAME, OPEN_DIR);
		if (s->keptfd < 0 && errno == ENOENT && how == KEPT_MAKE) {
			/* A mkdirat that fails leaves its errno for the error below. */
			if (mkdirat(s->dirfd, KEPT_NAME, 0700) == 0 || errno == EEXIST) {
				(void)fsync(s->dirfd);
				s->keptfd = open_dir_at(s->dirfd, KEPT_NAME, OPEN_DIR);
			}
		}
		if (s->keptfd < 0 && errno == ENOENT && how == KEPT_FIND)
			return 0;
		if (s->keptfd < 0)
			return open_err(err, errlen, s, KEPT_NAME, NULL);
	}
	return 1;
}

/* ---- atomic write, bounded read ----------------------------------------- */

/* How write_temp (and atomic_write) work. */
#define WRITE_SYNC   1   /* fsync the file */
#define WRITE_KNOWN  2   /* what is at the name is known (a regular file we read, or a
                          * name past every entry listed): no check of it */
#define WRITE_STALE  4   /* a leftover temp file of the name is a killed run's */
#define WRITE_SWAP   8   /* the name holds a regular file: swap_in, not a rename over it */

/* A temp name always fits: names are at most NAME_MAX_LEN bytes, a pid 20 digits. */
#define TMP_CAP 128
_Static_assert(sizeof TMP_PREFIX + NAME_MAX_LEN + 1 + 20 <= TMP_CAP, "temp name fits");

/* Makes the temp file of name (state_lock: ".tmp-<name>" for the lock holder,
 * ".tmp-<name>-<pid>" else) into tmp, in kept/ (s->keptfd), holding p[n], closed,
 * and fsynced with WRITE_SYNC. Every temp file is made in kept/ (made when
 * missing), whatever directory its file then goes to: the lock holder lists kept/
 * every run, and that listing removes the temp files of killed runs, so no other
 * listing is needed. A lock holder's temp name is its own: a leftover is
 * truncated. Else a leftover fails the write, unless WRITE_STALE, which removes it
 * first. Returns 0, or -1 with err. */
static int
write_temp(struct state *s, const char *name, const void *p, size_t n,
    int how, char tmp[TMP_CAP], char *err, size_t errlen)
{
	/* O_NONBLOCK: a FIFO planted under the temp name fails (ENXIO) instead of
	 * blocking the open. */
	const int flags = O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK |
	    (s->lockfd >= 0 ? O_TRUNC : O_EXCL);
	const char *what;
	struct buf b;
	int fd, e;

	buf_init(&b, tmp, TMP_CAP);
	buf_str(&b, TMP_PREFIX);
	buf_str(&b, name);
	if (s->lockfd < 0) {
		buf_char(&b, '-');
		buf_uint(&b, (uint64_t)getpid(), 0);
	}
	if (kept_dir(s, KEPT_MAKE, err, errlen) < 0)
		return -1;
	fd = openat(s->keptfd, tmp, flags, 0600);
	if (fd < 0 && errno == EEXIST && (how & WRITE_STALE)) {
		(void)unlinkat(s->keptfd, tmp, 0);
		fd = openat(s->keptfd, tmp, flags, 0600);
	}
	if (fd < 0)
		return kept_err(err, errlen, s, tmp, "cannot create", errno);
	what = write_all(fd, p, n) != 0 ? "write" :
	    (how & WRITE_SYNC) && fsync(fd) != 0 ? "fsync" : NULL;
	e = errno;
	if (close(fd) != 0 && what == NULL) {
		what = "close";
		e = errno;
	}
	if (what == NULL)
		return 0;
	(void)unlinkat(s->keptfd, tmp, 0);
	return kept_err(err, errlen, s, tmp, what, e);
}

/* Set once RENAME_EXCHANGE is refused as unknown (EINVAL: the file system; ENOSYS:
 * the kernel): the run's later writes rename at once. */
static int no_swap;

/* Puts tmp (in kept/) at name (in dfd), a regular file when last seen, by swapping
 * the two (atomic, as a rename is), then removes the old file, now named tmp. Why
 * not a rename over it: replacing a file makes ext4 (auto_da_alloc) start writing
 * the new one's data at once, 0.5-1 ms a write against 0.1 ms for these two calls.
 * Returns 0 done; -1 not swapped (no RENAME_EXCHANGE here, or name gone): the
 * caller renames instead; 1 a directory was planted at name since: it is swapped
 * back, and the write refused (a rename would fail on it too). */
static int
swap_in(int tmpdfd, const char *tmp, int dfd, const char *name)
{
	if (no_swap || syscall(SYS_renameat2, tmpdfd, tmp, dfd, name, RENAME_EXCHANGE) != 0) {
		no_swap |= errno == EINVAL || errno == ENOSYS;
		return -1;
	}
	if (unlinkat(tmpdfd, tmp, 0) == 0 || errno != EISDIR)
		return 0;    /* a leftover is a temp file: the next listing removes it */
	(void)syscall(SYS_renameat2, tmpdfd, tmp, dfd, name, RENAME_EXCHANGE);
	return 1;
}

/* Writes name atomically (see state.h) in the state dir (sub NULL) or in kept/
 * (sub KEPT_NAME, open already: kept_dir): a kill leaves the old or the new file;
 * not fsynced (how: WRITE_KNOWN, WRITE_SWAP, or 0). */
static int
atomic_write(struct state *s, const char *sub, const char *name, const void *p, size_t n,
    int how, char *err, size_t errlen)
{
	const int dfd = sub == NULL ? s->dirfd : s->keptfd;
	const char *what = NULL;
	char tmp[TMP_CAP];
	struct stat st;
	int r, e = 0;

	/* rename() would replace a planted symlink or FIFO silently; refuse it so the
	 * oddity is seen. */
	if (how & WRITE_KNOWN) {
		/* nothing to check */
	} else if (fstatat(dfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0) {
		if (S_ISLNK(st.st_mode))
			what = "is a symbolic link (refused)";
		else if (!S_ISREG(st.st_mode))
			what = "is not a regular file (refused)";
		how |= WRITE_SWAP;
	} else if (errno != ENOENT) {
		what = "cannot stat";
		e = errno;
	}
	if (what != NULL)
		return path_err(err, errlen, s, sub, name, what, e);
	if (write_temp(s, name, p, n, how, tmp, err, errlen) != 0)
		return -1;
	r = how & WRITE_SWAP ? swap_in(s->keptfd, tmp, dfd, name) : -1;
	if (r == 0)
		return 0;
	if (r > 0) {
		what = "is not a regular file (refused)";
	} else if (renameat(s->keptfd, tmp, dfd, name) != 0) {
		what = "rename";
		e = errno;
	} else {
		return 0;
	}
	(void)unlinkat(s->keptfd, tmp, 0);
	return path_err(err, errlen, s, sub, name, what, e);
}

/* Publishes name in the state dir with p[n] only if it does not exist: the file
 * is written whole under a temp name, then hard-linked to name, which fails when
 * another run got there first. No lock is needed, and two runs at once end up
 * with the same file. Returns 1 made; 0 not made: name existed, or our temp file
 * was removed under us (a sender taking the lock clears temp files); -1 error. */
static int
create_once(struct state *s, const char *name, const void *p, size_t n, char *err, size_t errlen)
{
	char tmp[TMP_CAP];
	int e;

	/* Unlocked: a live process with our pid cannot exist, so a leftover of our
	 * temp name is a killed run's. */
	if (write_temp(s, name, p, n, WRITE_STALE | WRITE_SYNC, tmp, err, errlen) != 0)
		return -1;
	e = linkat(s->keptfd, tmp, s->dirfd, name, 0) == 0 ? 0 : errno;
	(void)unlinkat(s->keptfd, tmp, 0);
	if (e == EEXIST || e == ENOENT)
		return 0;
	if (e != 0)
		return set_err(err, errlen, s, name, "link", e);
	if (fsync(s->dirfd) != 0)
		return set_err(err, errlen, s, NULL, "fsync", errno);
	return 1;
}

/* Reads name in the state dir (sub NULL) or in kept/ (sub KEPT_NAME, open
 * already: kept_dir) into buf[cap] (file.h, not following a symlink). Returns 1
 * read (*len set), 0 missing, -1 error. */
static int
read_small(const struct state *s, const char *sub, const char *name, char *buf, size_t cap,
    size_t *len, char *err, size_t errlen)
{
	int r = file_read(sub == NULL ? s->dirfd : s->keptfd, name, O_NOFOLLOW, buf, cap, len);
	const char *what = "is not a regular file (refused)";
	char big[64];
	struct buf b;

	if (r == FILE_OK || r == FILE_ABSENT)
		return r;
	*len = 0;
	if (r == FILE_TOO_BIG) {
		buf_init(&b, big, sizeof big);
		buf_str(&b, "larger than ");
		buf_uint(&b, cap, 0);
		buf_str(&b, " bytes");
		what = big;
	} else if (r != FILE_NOT_REGULAR) {
		return open_err(err, errlen, s, sub, name);
	}
	return path_err(err, errlen, s, sub, name, what, 0);
}

/* ---- choosing the directory --------------------------------------------- */

enum { DIR_OK, DIR_ABSENT_CREATABLE, DIR_UNUSABLE };

#define PRIVATE_PREFIX "anontel-"

/* Appends "PATH: [PART ][what][: strerror(e)]" to why (what NULL: "PATH: [PART: ]
 * strerror(e)"). PART, the first partlen bytes of PATH, names the component at
 * fault when it is not PATH itself (partlen 0). */
static void
say(struct buf *why, const char *path, size_t partlen, const char *what, int e)
{
	buf_str(why, path);
	buf_str(why, ": ");
	if (partlen > 0) {
		buf_add(why, path, partlen);
		buf_str(why, what != NULL ? " " : ": ");
	}
	if (what != NULL)
		buf_str(why, what);
	if (e != 0) {
		if (what != NULL)
			buf_str(why, ": ");
		buf_str(why, strerror(e));
	}
}

/* Opens directory name in dfd, O_NOFOLLOW; when it is missing, makes it (mode, less
 * the umask; dfd fsynced so the entry is durable) if create, or else says whether
 * it could be made. path and partlen name it in reasons, as say's do.
 * Returns DIR_OK with *fdout, DIR_ABSENT_CREATABLE (only when !create), or
 * DIR_UNUSABLE with the reason appended to why. */
static int
step_into(int dfd, const char *name, mode_t mode, int create, int *fdout, const char *path,
    size_t partlen, struct buf *why)
{
	int fd = open_dir_at(dfd, name, OPEN_DIR);

	/* A parent we may only pass through (0711, as some home and service
	 * directories are) is still a way to the state dir: O_PATH needs no read. */
	if (fd < 0 && errno == EACCES && partlen > 0)
		fd = open_dir_at(dfd, name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
	if (fd < 0 && errno == ENOENT) {
		if (!create && dir_writable(dfd))
			return DIR_ABSENT_CREATABLE;
		if (create && (mkdirat(dfd, name, mode) == 0 || errno == EEXIST)) {
			(void)fsync(dfd);
			fd = open_dir_at(dfd, name, OPEN_DIR);
		} else {
			/* "PATH: cannot create[ PART]: why" */
			int e = errno;
			buf_str(why, path);
			buf_str(why, create || partlen > 0 ? ": cannot create" : ": cannot be created");
			if (partlen > 0) {
				buf_char(why, ' ');
				buf_add(why, path, partlen);
			}
			buf_str(why, ": ");
			buf_str(why, strerror(e));
			return DIR_UNUSABLE;
		}
	}
	if (fd < 0) {
		if (errno == ELOOP)
			say(why, path, partlen, "is a symbolic link (refused)", 0);
		else
			say(why, path, partlen, NULL, errno);
		return DIR_UNUSABLE;
	}
	*fdout = fd;
	return DIR_OK;
}

/* Walks absolute path from "/" one component at a time, each opened O_DIRECTORY |
 * O_NOFOLLOW, so a symlink anywhere in it is refused rather than followed; missing
 * components are made (0755, the last 0700) when create. Returns as step_into,
 * *fdout on DIR_OK being the last component. */
/* openat2(2)'s argument and flag (linux/openat2.h, which musl's headers lack). */
struct openat2_how {
	uint64_t flags, mode, resolve;
};
#define OPENAT2_NO_SYMLINKS 0x04

/* Opens an absolute path of plain components (no "." or "..") in one call, with a
 * symlink in any component refused, as the walk does: openat2 (Linux 5.6).
 * Returns the fd, or -1 for anything else (a missing part, a symlink, an older
 * kernel, the sandbox), which the walk then says precisely or mends. */
static int
open_whole(const char *path)
{
#ifdef SYS_openat2
	struct openat2_how how = { OPEN_DIR, 0, OPENAT2_NO_SYMLINKS };

	for (const char *p = path; *p != '\0'; p++) {
		if (p[0] == '/' && p[1] == '.' && (p[2] == '/' || p[2] == '\0' ||
		    (p[2] == '.' && (p[3] == '/' || p[3] == '\0'))))
			return -1;
	}
	return (int)syscall(SYS_openat2, AT_FDCWD, path, &how, sizeof how);
#else
	(void)path;
	return -1;
#endif
}

static int
walk_path(const char *path, int create, int *fdout, struct buf *why)
{
	char name[256];
	const char *p = path;
	int fd;

	*fdout = -1;
	if (path[0] != '/') {
		say(why, path, 0, "not an absolute path (refused)", 0);
		return DIR_UNUSABLE;
	}
	if ((*fdout = open_whole(path)) >= 0)
		return DIR_OK;
	fd = openat(AT_FDCWD, "/", OPEN_DIR);
	if (fd < 0) {
		say(why, path, 1, NULL, errno);   /* "/" */
		return DIR_UNUSABLE;
	}
	for (;;) {
		const char *end, *q;
		size_t len;
		int last, next = -1, r;

		while (*p == '/')
			p++;
		if (*p == '\0')
			break;
		for (end = p; *end != '\0' && *end != '/'; end++)
			;
		len = (size_t)(end - p);
		for (q = end; *q == '/'; q++)
			;
		last = *q == '\0';
		if (len >= sizeof name || (len == 1 && p[0] == '.') ||
		    (len == 2 && p[0] == '.' && p[1] == '.')) {
			say(why, path, (size_t)(end - path), len >= sizeof name ?
			    "is too long a name" : "is a . or .. component (refused)", 0);
			close(fd);
			return DIR_UNUSABLE;
		}
		memcpy(name, p, len);
		name[len] = '\0';
		r = step_into(fd, name, last ? 0700 : 0755, create, &next, path,
		    last ? 0 : (size_t)(end - path), why);
		close(fd);
		if (r != DIR_OK)
			return r;
		fd = next;
		p = end;
	}
	*fdout = fd;
	return DIR_OK;
}

/* Checks that the open directory fd (path) is ours to keep state in: owned by the
 * effective uid, not group- or world-writable, writable. Returns 0, or -1 with the
 * reason appended to why. */
static int
check_usable(int fd, const struct stat *st, uid_t euid, const char *path, struct buf *why)
{
	if (st->st_uid != euid) {
		/* e.g. /tmp/anontel-<uid> made by someone else to feed us state. */
		buf_str(why, path);
		buf_str(why, ": owned by uid ");
		buf_uint(why, st->st_uid, 0);
		buf_str(why, ", not ");
		buf_uint(why, euid, 0);
		buf_str(why, " (refused)");
		return -1;
	}
	if ((st->st_mode & (S_IWGRP | S_IWOTH)) != 0) {
		say(why, path, 0, "is group- or world-writable (refused)", 0);
		return -1;
	}
	/* Root passes mode bits, so this mostly catches read-only mounts (EROFS). */
	if (!dir_writable(fd)) {
		say(why, path, 0, "not writable", errno);
		return -1;
	}
	return 0;
}

/* A sticky directory others can write, such as /tmp or what `--tmpfs` mounts (1777):
 * the sticky bit stops them removing or renaming what we make in it, so a private
 * subdirectory of ours is safe there, the directory itself is not. */
static int
is_shared_sticky(const struct stat *st)
{
	return (st->st_mode & S_ISVTX) != 0 && (st->st_mode & (S_IWGRP | S_IWOTH)) != 0;
}

/* Checks candidate path (creating it when create): the directory itself, or its
 * private subdirectory sub (anontel-<euid>) when it is a shared sticky one.
 * s->dir gets the directory chosen, also on DIR_ABSENT_CREATABLE; on DIR_OK
 * s->dirfd holds an O_DIRECTORY fd; on DIR_UNUSABLE the reason is appended to why. */
static int
try_dir(struct state *s, const char *path, const char *sub, uid_t euid, int create,
    struct buf *why)
{
	struct buf d;
	struct stat st;
	int fd, subfd = -1, r, ok;

	buf_init(&d, s->dir, sizeof s->dir);
	buf_str(&d, path);
	if (d.overflow) {
		say(why, path, 0, "path too long", 0);
		return DIR_UNUSABLE;
	}
	r = walk_path(path, create, &fd, why);
	if (r != DIR_OK)
		return r;
	ok = fstat(fd, &st) == 0;
	if (ok && is_shared_sticky(&st)) {
		buf_char(&d, '/');
		buf_str(&d, sub);
		if (d.overflow) {
			say(why, path, 0, "path too long for its anontel-<euid> subdirectory", 0);
			close(fd);
			return DIR_UNUSABLE;
		}
		r = step_into(fd, sub, 0700, create, &subfd, s->dir, 0, why);
		close(fd);
		if (r != DIR_OK)
			return r;
		fd = subfd;
		ok = fstat(fd, &st) == 0;
	}
	/* s->dir is path, or path/sub once stepped into. */
	if (!ok)
		say(why, s->dir, 0, "fstat", errno);
	if (!ok || check_usable(fd, &st, euid, s->dir, why) != 0) {
		close(fd);
		return DIR_UNUSABLE;
	}
	s->dirfd = fd;
	return DIR_OK;
}

/* Walks the candidates; mode 1 = state_open, 0 = state_find. */
static int
pick_dir(struct state *s, const char *preferred, int create, char *err, size_t errlen)
{
	char pref[sizeof s->dir], tmpdir[64], dummy[2];  /* cppcheck-suppress variableScope ; why.p may point here */
	const char *cands[3];
	const uid_t euid = geteuid();
	size_t n = 0;
	struct buf why, t;

	memset(s, 0, sizeof *s);
	s->dirfd = s->lockfd = s->keptfd = -1;
	if (err == NULL || errlen == 0)
		buf_init(&why, dummy, sizeof dummy);
	else
		buf_init(&why, err, errlen);

	/* /tmp/anontel-<euid>, whose last part is the private subdirectory's name. */
	buf_init(&t, tmpdir, sizeof tmpdir);
	buf_str(&t, "/tmp/" PRIVATE_PREFIX);
	buf_uint(&t, euid, 0);

	if (preferred != NULL && preferred[0] != '\0') {
		/* "/x/link/" would resolve the symlink despite O_NOFOLLOW. */
		size_t len = strlen(preferred);
		while (len > 1 && preferred[len - 1] == '/')
			len--;
		if (len < sizeof pref) {
			memcpy(pref, preferred, len);
			pref[len] = '\0';
			cands[n++] = pref;
		} else {
			cands[n++] = preferred;   /* try_dir refuses it as too long */
		}
	}
	cands[n++] = DEFAULT_DIR;
	cands[n++] = tmpdir;

	for (size_t i = 0; i < n; i++) {
		size_t mark = why.len;
		int r;

		if (mark > 0)
			buf_str(&why, "; ");
		r = try_dir(s, cands[i], tmpdir + sizeof "/tmp/" - 1, euid, create, &why);
		if (r == DIR_UNUSABLE) {
			s->dir[0] = '\0';
			continue;
		}
		/* Undo the separator: nothing was said about this candidate. */
		if (!why.overflow) {
			why.len = mark;
			why.p[mark] = '\0';
		}
		if (r == DIR_OK)
			return 0;
		if (why.len > 0)
			buf_str(&why, "; ");
		buf_str(&why, s->dir);
		buf_str(&why, ": does not exist yet");
		return 1;
	}
	if (why.len == 0)
		buf_str(&why, "no usable state directory");
	return -1;
}

int
state_open(struct state *s, const char *preferred, char *err, size_t errlen)
{
	return pick_dir(s, preferred, 1, err, errlen);
}

int
state_find(struct state *s, const char *preferred, char *err, size_t errlen)
{
	return pick_dir(s, preferred, 0, err, errlen);
}

/* ---- lock ---------------------------------------------------------------- */

/* state_lock and state_lock_existing: `create` makes the lock file (O_RDWR |
 * O_CREAT), else only an existing one is opened, read-only (2: there is none). */
static int
lock(struct state *s, int create, char *err, size_t errlen)
{
	const char *what = NULL;
	struct stat st;
	int fd, e = 0;

	if (need_open(s, err, errlen) != 0)
		return -1;
	if (s->lockfd >= 0)
		return 1;
	fd = openat(s->dirfd, LOCK_NAME, (create ? O_RDWR | O_CREAT : O_RDONLY) | O_NOFOLLOW |
	    O_CLOEXEC | O_NONBLOCK | O_NOCTTY, 0600);
	if (fd < 0 && !create && errno == ENOENT)
		return 2;
	if (fd < 0)
		return open_err(err, errlen, s, NULL, LOCK_NAME);
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		what = "is not a regular file (refused)";
	} else if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		what = "flock";
		e = errno;
	}
	if (what != NULL) {
		close(fd);
		return e == EWOULDBLOCK ? 0 : set_err(err, errlen, s, LOCK_NAME, what, e);
	}
	s->lockfd = fd;
	/* Listed again by the lock holder, which removes temp files of killed runs. */
	s->kept.valid = 0;
	s->stamps_known = 0;
	return 1;
}

int
state_lock(struct state *s, char *err, size_t errlen)
{
	return lock(s, 1, err, errlen);
}

int
state_lock_existing(struct state *s, char *err, size_t errlen)
{
	int r = lock(s, 0, err, errlen);

	return r == 2 ? 1 : r;
}

/* ---- stamps -------------------------------------------------------------- */

enum {
	K_LAST_SUCCESS, K_LAST_BUILT, K_NEXT_TRY, K_JITTER, K_FAILURES, K_DROPPED, K_REJECTED,
	K_DROP_BELOW, K_SENT, K_NOTICE, K_FIRST_REPORT, K_LAST_ERROR, K_OLD_JITTER, K_COUNT
};

/* K_OLD_JITTER: "jitter_ms" of earlier versions, read and forgotten (the jitter
 * is a per-mille of the current interval now: a new one is drawn). */
static const char stamp_keys[K_COUNT][16] = {
	"last_success_ms", "last_built_ms", "next_try_ms", "jitter_permille", "failures",
	"dropped", "rejected", "drop_below", "sent", "notice_shown", "first_report_ms",
	"last_error", "jitter_ms",
};

/* Larger numbers are clamped to these: a value that would wrap is not ours. */
static const uint64_t stamp_max[K_COUNT] = {
	INT64_MAX, INT64_MAX, INT64_MAX, STATE_JITTER_MAX, UINT32_MAX, UINT64_MAX, UINT64_MAX,
	UINT64_MAX, UINT64_MAX, 1, INT64_MAX, 0, INT64_MAX,
};

/* Where each number key's field is in struct state_stamps, and its size: 8 for
 * int64_t and uint64_t, 4 for uint32_t and int (every value fits its key's
 * maximum, so the unsigned copy is the value). */
#define STAMP_FIELD(m) { offsetof(struct state_stamps, m), sizeof ((struct state_stamps *)0)->m }
static const struct {
	unsigned char off, size;
} stamp_field[K_LAST_ERROR] = {
	STAMP_FIELD(last_success_ms), STAMP_FIELD(last_built_ms), STAMP_FIELD(next_try_ms),
	STAMP_FIELD(jitter_permille), STAMP_FIELD(failures), STAMP_FIELD(dropped),
	STAMP_FIELD(rejected), STAMP_FIELD(drop_below), STAMP_FIELD(sent),
	STAMP_FIELD(notice_shown), STAMP_FIELD(first_report_ms),
};
_Static_assert(sizeof ((struct state_stamps *)0)->jitter_permille == 4 &&
    sizeof ((struct state_stamps *)0)->failures == 4 &&
    sizeof ((struct state_stamps *)0)->notice_shown == 4,
    "stamp_set and stamp_get copy 4 or 8 bytes");

/* Sets number key k (< K_LAST_ERROR) of st to v (within its maximum). */
static void
stamp_set(struct state_stamps *st, int k, uint64_t v)
{
	char *field = (char *)st + stamp_field[k].off;
	uint32_t v32 = (uint32_t)v;

	if (stamp_field[k].size == 4)
		memcpy(field, &v32, 4);
	else
		memcpy(field, &v, 8);
}

/* Number key k of st, clamped to its maximum (a notice_shown of 2 reads as 1, a
 * negative one too). */
static uint64_t
stamp_get(const struct state_stamps *st, int k)
{
	const char *field = (const char *)st + stamp_field[k].off;
	uint64_t v = 0;
	uint32_t v32;

	if (stamp_field[k].size == 4) {
		memcpy(&v32, field, 4);
		v = v32;
	} else {
		memcpy(&v, field, 8);
	}
	return v < stamp_max[k] ? v : stamp_max[k];
}

static void
stamps_default(struct state_stamps *st)
{
	memset(st, 0, sizeof *st);
	st->jitter_permille = -1;
}

static int
is_control(unsigned char c)
{
	return c < 0x20 || c == 0x7f;
}

/* Reads one line of the stamps file, "key value" (len bytes, "\n" aside), into
 * st; *seen holds the keys read so far. Returns NULL, or what is wrong with the
 * line, with *shown (*shown_len bytes) the part to quote, NULL for none. */
static const char *
stamps_line(const char *key, size_t len, unsigned *seen, struct state_stamps *st,
    const char **shown, size_t *shown_len)
{
	const char *sp = memchr(key, ' ', len);
	size_t klen = sp ? (size_t)(sp - key) : len;
	const char *val = sp ? sp + 1 : key + len;
	size_t vlen = (size_t)(key + len - val);
	int k, r;
	uint64_t v;

	for (k = 0; k < K_COUNT; k++)
		if (strlen(stamp_keys[k]) == klen && memcmp(stamp_keys[k], key, klen) == 0)
			break;
	*shown = key;
	*shown_len = klen;
	if (k == K_COUNT)
		return "unknown key";
	if (*seen & (1u << k))
		return "duplicate key";
	*seen |= 1u << k;
	if (vlen == 0)
		return "missing value for";
	*shown = NULL;
	if (k == K_LAST_ERROR) {
		if (vlen >= sizeof st->last_error)
			return "last_error too long";
		for (size_t j = 0; j < vlen; j++)
			if (is_control((unsigned char)val[j]))
				return "control character in last_error";
		memcpy(st->last_error, val, vlen);
		st->last_error[vlen] = '\0';
		return NULL;
	}
	*shown = val;
	*shown_len = vlen;
	r = parse_u64(val, vlen, stamp_max[k], &v);
	if (r == -1)
		return "not a decimal number:";
	if (r == -3)
		return "leading zero:";
	if (r == -2)
		v = stamp_max[k];
	if (k < K_LAST_ERROR)
		stamp_set(st, k, v);
	return NULL;
}

/* Reads the stamps file's text p[n] into st; -1 with "DIR/stamps: line N: what[
 * \"shown\"]" in err. */
static int
parse_stamps(const struct state *s, const char *p, size_t n, struct state_stamps *st, char *err,
    size_t errlen)
{
	unsigned seen = 0;
	size_t line = 0, i = 0;

	while (i < n) {
		const char *nl = memchr(p + i, '\n', n - i), *what, *shown = NULL;
		size_t shown_len = 0;
		struct buf b;

		line++;
		if (nl == NULL)
			what = "no newline at end (truncated?)";
		else if (nl == p + i)
			what = "empty line";
		else
			what = stamps_line(p + i, (size_t)(nl - p) - i, &seen, st, &shown, &shown_len);
		if (what == NULL) {
			i = (size_t)(nl - p) + 1;
			continue;
		}
		if (err == NULL || errlen == 0)
			return -1;
		buf_init(&b, err, errlen);
		buf_str(&b, s->dir);
		buf_str(&b, "/" STAMPS_NAME ": line ");
		buf_uint(&b, line, 0);
		buf_str(&b, ": ");
		buf_str(&b, what);
		if (shown != NULL) {
			buf_str(&b, " \"");
			buf_shown(&b, shown, shown_len < 32 ? shown_len : 32);
			buf_char(&b, '"');
		}
		return -1;
	}
	return 0;
}

int
state_read_stamps(struct state *s, struct state_stamps *st, char *err, size_t errlen)
{
	char text[STAMPS_CAP];
	size_t n;
	int r;

	stamps_default(st);
	if (need_open(s, err, errlen) != 0)
		return -1;
	r = read_small(s, NULL, STAMPS_NAME, text, sizeof text, &n, err, errlen);
	/* A regular file or none: under the lock nothing else can change that. */
	s->stamps_known = r < 0 || s->lockfd < 0 ? 0 : r == FILE_OK ? 2 : 1;
	if (r <= 0)
		return r;
	if (parse_stamps(s, text, n, st, err, errlen) != 0) {
		stamps_default(st);
		return -1;
	}
	return 0;
}

/* What state_write_stamps writes always fits: every key's line, and last_error's. */
#define STAMPS_TEXT 1024
_Static_assert(K_COUNT * (sizeof stamp_keys[0] + 1 + 20 + 1) + STATE_ERROR_MAX < STAMPS_TEXT,
    "stamps text fits");

int
state_write_stamps(struct state *s, const struct state_stamps *st, char *err, size_t errlen)
{
	/* Keys left out at their defaults: jitter not drawn yet, no drop pending,
	 * never a first report. */
	const unsigned absent = (unsigned)(st->jitter_permille < 0) << K_JITTER |
	    (unsigned)(st->drop_below == 0) << K_DROP_BELOW |
	    (unsigned)(st->first_report_ms == 0) << K_FIRST_REPORT;
	char text[STAMPS_TEXT];
	struct buf b;

	if (need_open(s, err, errlen) != 0)
		return -1;
	if (st->last_success_ms < 0 || st->last_built_ms < 0 || st->next_try_ms < 0 ||
	    st->first_report_ms < 0 ||
	    st->jitter_permille < -1 || st->jitter_permille > STATE_JITTER_MAX)
		return set_err(err, errlen, s, STAMPS_NAME, "time or jitter out of range refused",
		    0);
	buf_init(&b, text, sizeof text);
	for (int k = 0; k < K_LAST_ERROR; k++) {
		if (absent & (1u << k))
			continue;
		buf_str(&b, stamp_keys[k]);
		buf_char(&b, ' ');
		buf_uint(&b, stamp_get(st, k), 0);
		buf_char(&b, '\n');
	}
	if (st->last_error[0] != '\0') {   /* absent = "" */
		buf_str(&b, stamp_keys[K_LAST_ERROR]);
		buf_char(&b, ' ');
		for (size_t j = 0; j < sizeof st->last_error - 1 && st->last_error[j] != '\0'; j++) {
			unsigned char c = (unsigned char)st->last_error[j];
			buf_char(&b, is_control(c) ? ' ' : (char)c);
		}
		buf_char(&b, '\n');
	}
	if (atomic_write(s, NULL, STAMPS_NAME, text, b.len,
	    s->stamps_known == 2 ? WRITE_KNOWN | WRITE_SWAP : s->stamps_known ? WRITE_KNOWN : 0,
	    err, errlen) != 0)
		return -1;
	if (s->lockfd >= 0)
		s->stamps_known = 2;
	return 0;
}

/* ---- kept messages ------------------------------------------------------- */

/* The name of entry seq of kept/: 20 digits + suffix (KEPT_SUFFIX, LOG_SUFFIX). */
static void
seq_name(uint64_t seq, const char *suffix, char out[32])
{
	struct buf b;

	buf_init(&b, out, 32);
	buf_uint(&b, seq, KEPT_DIGITS);
	buf_str(&b, suffix);
}

static void
kept_name(uint64_t seq, char out[32])
{
	seq_name(seq, KEPT_SUFFIX, out);
}

/* 1 and *seq when name is exactly 20 digits + 5 bytes (a suffix: KEPT_SUFFIX,
 * LOG_SUFFIX) with a value in 1..STATE_SEQ_MAX (so the next number never
 * overflows). */
_Static_assert(STATE_SEQ_MAX < UINT64_C(10000000000000000000), "19 digits at most");

static int
seq_parse(const char *name, uint64_t *seq)
{
	uint64_t v = 0;

	/* STATE_SEQ_MAX has 19 digits: the first of 20 is a 0, and the other 19
	 * cannot overflow. */
	if (strlen(name) != KEPT_DIGITS + 5 || name[0] != '0')
		return 0;
	for (size_t i = 1; i < KEPT_DIGITS; i++) {
		unsigned d = (unsigned)(name[i] - '0');
		if (d > 9)
			return 0;
		v = v * 10 + d;
	}
	*seq = v;
	return v != 0 && v <= STATE_SEQ_MAX;
}

/* Whether an entry of kept/ is a regular file (not a directory, FIFO, symlink...
 * planted under a message's name): d_type when the file system gives it. */
static int
is_regular_entry(int kfd, const char *name, unsigned char type)
{
	struct stat st;

	if (type != DT_UNKNOWN)
		return type == DT_REG;
	return fstatat(kfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0 && S_ISREG(st.st_mode);
}

/* The log holds as many as the kept messages: state_seqs serves both. */
_Static_assert(STATE_LOG_MAX == STATE_MAX_KEPT, "one size of listing");

/* Adds entry v to q: counted, and among the oldest numbers when it is one. */
static void
seqs_add(struct state_seqs *q, uint64_t v)
{
	const size_t max = sizeof q->seq / sizeof q->seq[0];
	size_t i;

	if (v > q->newest)
		q->newest = v;
	q->total++;
	if (q->filled == max && v > q->seq[max - 1])
		return;
	i = q->filled < max ? q->filled++ : max - 1;
	for (; i > 0 && q->seq[i - 1] > v; i--)
		q->seq[i] = q->seq[i - 1];
	q->seq[i] = v;
}

/* Takes q's known entry i out (removed or delivered). */
static void
seqs_remove(struct state_seqs *q, size_t i)
{
	memmove(&q->seq[i], &q->seq[i + 1], (q->filled - i - 1) * sizeof q->seq[0]);
	q->filled--;
	q->total--;
}

/* What an entry of kept/ is, for its listings (kept_scan, state_forget). */
enum {
	ENTRY_TEMP,       /* a write's temp file */
	ENTRY_OTHER,      /* not a message's or a log entry's name */
	ENTRY_PLANTED,    /* a message-like name on what is not a regular file */
	ENTRY_KEPT,       /* a kept message */
	ENTRY_LOG         /* an audit log entry */
};

/* Classifies entry name (d_type type) of kept/, with *seq its number from
 * ENTRY_PLANTED on. A temp file is removed when the lock is held (so it is a
 * killed run's; best effort: a survivor is harmless); else it is a write in
 * progress, or a killed run's. */
static int
entry_kind(const struct state *s, const char *name, unsigned char type, uint64_t *seq)
{
	int kind;

	if (strncmp(name, TMP_PREFIX, sizeof TMP_PREFIX - 1) == 0) {
		if (s->lockfd >= 0)
			(void)unlinkat(s->keptfd, name, 0);
		return ENTRY_TEMP;
	}
	if (!seq_parse(name, seq))
		return ENTRY_OTHER;
	if (strcmp(name + KEPT_DIGITS, KEPT_SUFFIX) == 0)
		kind = ENTRY_KEPT;
	else if (strcmp(name + KEPT_DIGITS, LOG_SUFFIX) == 0)
		kind = ENTRY_LOG;
	else
		return ENTRY_OTHER;
	return is_regular_entry(s->keptfd, name, type) ? kind : ENTRY_PLANTED;
}

static void
scan_one(void *ctx, const char *name, unsigned char type)
{
	struct state *s = ctx;
	struct state_kept_list *l = &s->kept;
	uint64_t v;
	int kind = entry_kind(s, name, type, &v);

	if (kind == ENTRY_TEMP)
		return;
	/* A new message never takes the name of one planted there, or a log entry's. */
	if (kind != ENTRY_OTHER && v > l->highest)
		l->highest = v;
	if (kind < ENTRY_KEPT) {
		s->kept_ignored++;
		return;
	}
	seqs_add(kind == ENTRY_LOG ? &l->log : &l->msgs, v);
}

/* Lists kept/ into s->kept (valid, for reuse, when the lock is held). */
static int
kept_scan(struct state *s, char *err, size_t errlen)
{
	memset(&s->kept, 0, sizeof s->kept);
	s->kept_ignored = 0;
	if (file_each_entry(s->keptfd, scan_one, s) != 0)
		return kept_err(err, errlen, s, NULL, "cannot list", errno);
	s->kept.valid = s->lockfd >= 0;
	return 0;
}

/* Lists kept/ unless the lock holder's listing serves: 1 with s->kept filled,
 * 0 when there is no kept/ (s->kept empty), -1 with err. */
static int
kept_list(struct state *s, char *err, size_t errlen)
{
	int r;

	if (s->kept.valid)
		return 1;
	if ((r = kept_dir(s, KEPT_FIND, err, errlen)) <= 0) {
		memset(&s->kept, 0, sizeof s->kept);
		s->kept_ignored = 0;
		return r;
	}
	return kept_scan(s, err, errlen) == 0 ? 1 : -1;
}

/* Takes seq out of the listing (removed or delivered); a listing that did not
 * know it is listed again when next needed. */
static void
kept_forget(struct state *s, uint64_t seq)
{
	struct state_seqs *q = &s->kept.msgs;
	size_t i = 0;

	while (i < q->filled && q->seq[i] != seq)
		i++;
	if (i == q->filled)
		s->kept.valid = 0;
	else
		seqs_remove(q, i);
}

/* The up to max oldest numbers of the kept messages, or of the audit log's
 * entries (log), into seq, from the kept/ listing. Returns how many, 0 with no
 * kept/, -1 with err. */
static int
list_entries(struct state *s, int log, uint64_t *seq, size_t max, size_t *total, char *err,
    size_t errlen)
{
	/* In s->kept, which kept_list fills again. */
	const struct state_seqs *q = log ? &s->kept.log : &s->kept.msgs;
	int r;

	if (total != NULL)
		*total = 0;
	/* A listing that knows only the oldest cannot serve a longer list. */
	if (s->kept.valid && max > q->filled && q->filled < q->total)
		s->kept.valid = 0;
	if ((r = kept_list(s, err, errlen)) <= 0)
		return r;
	if (max > q->filled)
		max = q->filled;
	if (max > 0)
		memcpy(seq, q->seq, max * sizeof seq[0]);
	if (total != NULL)
		*total = q->total;
	return (int)max;
}

int
state_list_kept(struct state *s, uint64_t *seq, size_t max, size_t *total, char *err,
    size_t errlen)
{
	return list_entries(s, 0, seq, max, total, err, errlen);
}

/* The number for a new message: past every message-like name. Only a planted
 * name reaches STATE_SEQ_MAX: then past our own messages instead, around the
 * names that are taken. Returns 0, or -1 with err. */
static int
next_seq(struct state *s, uint64_t *seq, char *err, size_t errlen)
{
	struct stat st;
	char name[32];

	*seq = s->kept.highest + 1;
	if (s->kept.highest < STATE_SEQ_MAX)
		return 0;
	kept_name(*seq = s->kept.msgs.newest + 1, name);
	while (*seq <= STATE_SEQ_MAX && fstatat(s->keptfd, name, &st, AT_SYMLINK_NOFOLLOW) == 0)
		kept_name(++*seq, name);
	if (*seq > STATE_SEQ_MAX)
		return kept_err(err, errlen, s, NULL, "sequence numbers exhausted", 0);
	return 0;
}

int
state_keep(struct state *s, const char *msg, size_t n, uint64_t *seq_out, char *err,
    size_t errlen)
{
	struct state_kept_list *l = &s->kept;
	struct state_seqs *q = &l->msgs;
	char name[32];
	uint64_t seq;

	if (seq_out != NULL)
		*seq_out = 0;
	if (n > STATE_MSG_MAX)
		return kept_err(err, errlen, s, NULL, "message larger than STATE_MSG_MAX", 0);
	if (kept_dir(s, KEPT_MAKE, err, errlen) < 0)
		return -1;
	if (!l->valid && kept_scan(s, err, errlen) != 0)
		return -1;
	if (next_seq(s, &seq, err, errlen) != 0)
		return -1;
	kept_name(seq, name);
	/* A new name: past every entry listed, so nothing can be in the way. Not
	 * fsynced yet: state_sync_kept does that if the message stays (see the top). */
	if (atomic_write(s, KEPT_NAME, name, msg, n, WRITE_KNOWN, err, errlen) != 0)
		return -1;
	if (l->highest < seq)
		l->highest = seq;
	q->newest = seq;   /* past every kept message */
	if (q->filled == q->total && q->filled < sizeof q->seq / sizeof q->seq[0])
		q->seq[q->filled++] = seq;   /* the newest: last */
	q->total++;
	if (seq_out != NULL)
		*seq_out = seq;
	return 0;
}

int
state_sync_kept(struct state *s, uint64_t seq, char *err, size_t errlen)
{
	char name[32];
	int fd, r;

	kept_name(seq, name);
	/* 0: kept/ is gone (forgotten), and so is the message */
	if ((r = kept_dir(s, KEPT_FIND, err, errlen)) <= 0)
		return r;
	fd = openat(s->keptfd, name, O_RDONLY | O_NOFOLLOW | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
	if (fd < 0)
		return errno == ENOENT ? 0 : open_err(err, errlen, s, KEPT_NAME, name);
	r = fsync(fd) == 0 ? 0 : errno;   /* before close, which may set errno */
	close(fd);
	if (r == 0 && fsync(s->keptfd) != 0)
		return kept_err(err, errlen, s, NULL, "fsync", errno);
	return r == 0 ? 0 : kept_err(err, errlen, s, name, "fsync", r);
}

/* Removes kept message seq (not fsynced: see the top); one already gone is not an
 * error. Returns 0, or -1 with err (and the listing is made again when next
 * needed). */
static int
kept_unlink(struct state *s, uint64_t seq, char *err, size_t errlen)
{
	char name[32];

	kept_name(seq, name);
	if (unlinkat(s->keptfd, name, 0) == 0 || errno == ENOENT)
		return 0;
	s->kept.valid = 0;
	return kept_err(err, errlen, s, name, "cannot remove", errno);
}

int
state_drop_below(struct state *s, uint64_t limit, char *err, size_t errlen)
{
	int r;

	if ((r = kept_dir(s, KEPT_FIND, err, errlen)) <= 0)
		return r;
	/* A batch of the oldest at a time, until none below the limit is left. */
	for (;;) {
		const struct state_seqs *q = &s->kept.msgs;
		size_t removed = 0;

		if (kept_scan(s, err, errlen) != 0)
			return -1;
		/* The message at the limit is kept until the drop is done: none at or
		 * above it means a stale limit, and the messages below it are new. */
		if (q->newest < limit)
			break;
		for (size_t i = 0; i < q->filled && q->seq[i] < limit; i++) {
			if (kept_unlink(s, q->seq[i], err, errlen) != 0)
				return -1;
			removed++;
		}
		if (removed < q->filled || removed == 0)
			break;
	}
	/* Not fsynced: a power cut may bring a dropped message back, to be counted
	 * and dropped again (drop_below is in the stamps). */
	s->kept.valid = 0;
	return 0;
}

/* Reads entry seq of kept/ with suffix into buf (as state_read_kept says). */
static ssize_t
read_entry(struct state *s, uint64_t seq, const char *suffix, char *buf, size_t cap, char *err,
    size_t errlen)
{
	char name[32];
	size_t len;
	int r;

	seq_name(seq, suffix, name);
	if (kept_dir(s, KEPT_NEED, err, errlen) < 0)
		return -1;
	r = read_small(s, KEPT_NAME, name, buf, cap, &len, err, errlen);
	if (r == 0)
		kept_err(err, errlen, s, name, "missing", ENOENT);
	if (r <= 0)
		return -1;
	return (ssize_t)len;
}

ssize_t
state_read_kept(struct state *s, uint64_t seq, char *buf, size_t cap, char *err, size_t errlen)
{
	return read_entry(s, seq, KEPT_SUFFIX, buf, cap, err, errlen);
}

int
state_remove_kept(struct state *s, uint64_t seq, char *err, size_t errlen)
{
	int r;

	if ((r = kept_dir(s, KEPT_FIND, err, errlen)) <= 0 ||
	    (r = kept_unlink(s, seq, err, errlen)) != 0)
		return r;
	kept_forget(s, seq);
	return 0;
}

/* Removes the log's oldest entries beyond STATE_LOG_MAX (best effort: one that
 * cannot be removed now goes at a later delivery). */
static void
log_trim(struct state *s)
{
	struct state_seqs *q = &s->kept.log;
	char name[32];

	while (q->total > STATE_LOG_MAX && q->filled > 0) {
		seq_name(q->seq[0], LOG_SUFFIX, name);
		if (unlinkat(s->keptfd, name, 0) != 0 && errno != ENOENT)
			break;
		seqs_remove(q, 0);
	}
}

int
state_deliver_kept(struct state *s, uint64_t seq, char *err, size_t errlen)
{
	char name[32], logged[32];
	int r;

	kept_name(seq, name);
	seq_name(seq, LOG_SUFFIX, logged);
	if ((r = kept_dir(s, KEPT_FIND, err, errlen)) <= 0)
		return r == 0 ? kept_err(err, errlen, s, name, "missing", ENOENT) : -1;
	/* Not fsynced: a power cut may bring the delivered message back, to be sent
	 * again with the same Idempotency-Key. The number is past every name in
	 * kept/, so nothing is in the way of the new name. */
	if (renameat(s->keptfd, name, s->keptfd, logged) != 0) {
		s->kept.valid = 0;
		return kept_err(err, errlen, s, logged, "rename", errno);
	}
	kept_forget(s, seq);
	if (s->kept.valid) {
		/* The lock holder's listing, brought up to date. */
		if (s->kept.log.total == 0)   /* the first entry supersedes last.json */
			(void)unlinkat(s->dirfd, LAST_NAME, 0);
		seqs_add(&s->kept.log, seq);
	} else if (kept_scan(s, NULL, 0) != 0) {
		return 0;   /* delivered; a later delivery trims the log */
	}
	log_trim(s);
	return 0;
}

int
state_list_log(struct state *s, uint64_t *seq, size_t max, size_t *total, char *err,
    size_t errlen)
{
	return list_entries(s, 1, seq, max, total, err, errlen);
}

ssize_t
state_read_log(struct state *s, uint64_t seq, char *buf, size_t cap, char *err, size_t errlen)
{
	return read_entry(s, seq, LOG_SUFFIX, buf, cap, err, errlen);
}

/* ---- named files --------------------------------------------------------- */

/* Reads random-id into hex: 1 found (and valid), 0 absent, -1 error. */
static int
read_random(struct state *s, char hex[STATE_RANDOM_HEX + 1], char *err, size_t errlen)
{
	size_t n, i = 0;
	int r = read_small(s, NULL, RANDOM_NAME, hex, STATE_RANDOM_HEX + 1, &n, err, errlen);

	if (r <= 0)
		return r;
	while (i < n && (ascii_is_digit(hex[i]) || (hex[i] >= 'a' && hex[i] <= 'f')))
		i++;
	if (i != n || n != STATE_RANDOM_HEX)
		return set_err(err, errlen, s, RANDOM_NAME, "not 64 lowercase hex digits", 0);
	hex[n] = '\0';
	return 1;
}

int
state_random_id(struct state *s, int create, char hex[STATE_RANDOM_HEX + 1], char *err,
    size_t errlen)
{
	unsigned char bytes[STATE_RANDOM_HEX / 2];
	struct buf b;

	if (need_open(s, err, errlen) != 0)
		return -1;
	/* Not made by us: another run was first, or a sender taking the lock removed
	 * our temp file (it may have made the ID itself). Read again. */
	for (int tries = 0; tries < 3; tries++) {
		int r = read_random(s, hex, err, errlen);

		if (r != 0 || !create)
			return r;
		if (getrandom(bytes, sizeof bytes, 0) != (ssize_t)sizeof bytes)
			return set_err(err, errlen, s, RANDOM_NAME, "no random bytes from the kernel", 0);
		buf_init(&b, hex, STATE_RANDOM_HEX + 1);
		buf_hex(&b, bytes, sizeof bytes);
		r = create_once(s, RANDOM_NAME, hex, STATE_RANDOM_HEX, err, errlen);
		if (r != 0)
			return r;
	}
	return set_err(err, errlen, s, RANDOM_NAME, "could not be made (other runs kept racing)", 0);
}

int
state_read_last(struct state *s, char *buf, size_t cap, size_t *len, char *err, size_t errlen)
{
	uint64_t oldest;
	ssize_t n;

	*len = 0;
	if (state_list_log(s, &oldest, 1, NULL, err, errlen) < 0)
		return -1;
	if (s->kept.log.newest == 0)
		return read_small(s, NULL, LAST_NAME, buf, cap, len, err, errlen);
	if ((n = state_read_log(s, s->kept.log.newest, buf, cap, err, errlen)) < 0)
		return -1;
	*len = (size_t)n;
	return 1;
}

/* state_forget's pass over kept/: removes the messages and log entries (regular
 * files only), and temp files when the lock is held; anything else stays. */
struct erase {
	const struct state *s;
	struct state_forgotten *out;
	int error;          /* the first unlink's errno, 0 = none */
	char name[32];      /* and its name */
};

static void
erase_one(void *ctx, const char *name, unsigned char type)
{
	struct erase *e = ctx;
	uint64_t v;
	int kind = entry_kind(e->s, name, type, &v);

	if (kind < ENTRY_KEPT)
		return;
	if (unlinkat(e->s->keptfd, name, 0) == 0) {
		if (kind == ENTRY_KEPT)
			e->out->kept++;
		else
			e->out->logged++;
	} else if (errno != ENOENT && e->error == 0) {
		e->error = errno;
		memcpy(e->name, name, strlen(name) + 1);
	}
}

/* Unlinks name in the state dir: 1 removed, 0 not there, -1 failed (err). */
static int
forget_file(struct state *s, const char *name, char *err, size_t errlen)
{
	if (unlinkat(s->dirfd, name, 0) == 0)
		return 1;
	if (errno == ENOENT)
		return 0;
	return set_err(err, errlen, s, name, "cannot remove", errno);
}

int
state_forget(struct state *s, struct state_forgotten *out, char *err, size_t errlen)
{
	struct erase e;
	int r, rc = 0;

	memset(out, 0, sizeof *out);
	if (need_open(s, err, errlen) != 0)
		return -1;
	memset(&e, 0, sizeof e);
	e.s = s;
	e.out = out;
	if ((r = kept_dir(s, KEPT_FIND, err, errlen)) < 0)
		rc = -1;
	if (r > 0) {
		if (file_each_entry(s->keptfd, erase_one, &e) != 0) {
			kept_err(err, errlen, s, NULL, "cannot list", errno);
			rc = -1;
		} else if (e.error != 0) {
			kept_err(err, errlen, s, e.name, "cannot remove", e.error);
			rc = -1;
		}
		s->kept.valid = 0;
	}
	/* The names that hold the ID or a message sent: never followed, a symlink
	 * planted under them is removed itself. */
	if ((r = forget_file(s, LAST_NAME, rc == 0 ? err : NULL, errlen)) > 0)
		out->logged++;
	rc = r < 0 ? -1 : rc;
	if ((r = forget_file(s, RANDOM_NAME, rc == 0 ? err : NULL, errlen)) > 0)
		out->random_id = 1;
	return r < 0 ? -1 : rc;
}

void
state_close(struct state *s)
{
	if (s->lockfd >= 0)
		close(s->lockfd);   /* releases the flock, unless a forked child holds it */
	if (s->keptfd >= 0)
		close(s->keptfd);
	if (s->dirfd >= 0)
		close(s->dirfd);
	s->lockfd = s->keptfd = s->dirfd = -1;
	s->kept.valid = 0;
}
