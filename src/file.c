#include "file.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#define FILE_OPEN_FLAGS (O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC)

int
file_open(int dirfd, const char *path, int flags, struct stat *st, int *why)
{
	int fd;

	do
		fd = openat(dirfd, path, FILE_OPEN_FLAGS | flags);
	while (fd < 0 && errno == EINTR);
	if (fd < 0) {
		*why = errno == ENOENT || errno == ENOTDIR ? FILE_ABSENT : FILE_ERROR;
		return -1;
	}
	if (fstat(fd, st) != 0) {
		int e = errno;

		close(fd);
		errno = e;
		*why = FILE_ERROR;
		return -1;
	}
	if (!S_ISREG(st->st_mode)) {
		close(fd);
		*why = FILE_NOT_REGULAR;
		return -1;
	}
	*why = FILE_OK;
	return fd;
}

int
file_read(int dirfd, const char *path, int flags, char *buf, size_t cap, size_t *len)
{
	struct stat st;

	return file_read_stat(dirfd, path, flags, buf, cap, len, &st);
}

int
file_read_stat(int dirfd, const char *path, int flags, char *buf, size_t cap, size_t *len,
    struct stat *st)
{
	size_t n = 0;
	int e, r, fd = file_open(dirfd, path, flags, st, &r);

	*len = 0;
	if (fd < 0)
		return r;
	for (;;) {
		char extra;
		ssize_t got = n < cap ? read(fd, buf + n, cap - n) : read(fd, &extra, 1);

		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0) {
			r = FILE_ERROR;
			break;
		}
		if (got == 0)
			break;
		if (n == cap) {         /* a byte past the cap: too big */
			r = FILE_TOO_BIG;
			break;
		}
		n += (size_t)got;
		/* All the file had when opened: no read is needed to see its end
		 * (files of /proc and /sys, sized 0 or a page, take the loop's). */
		if (n == (size_t)st->st_size && n < cap)
			break;
	}
	e = errno;    /* a failed read's, for FILE_ERROR */
	close(fd);
	errno = e;
	if (r == FILE_ERROR)
		return r;
	*len = n;
	return r;
}

int
file_each_line(int fd, off_t st_size, off_t max, int (*fn)(void *ctx, const char *line,
    const char *end), void *ctx)
{
	char chunk[FILE_LINE_MAX + 1];
	size_t have = 0;
	off_t total = 0;

	for (;;) {
		ssize_t got = total == st_size && st_size > 0 ? 0 :
		    read(fd, chunk + have, sizeof chunk - have);
		const char *p = chunk, *end, *eol;
		int r;

		if (got < 0 && errno == EINTR)
			continue;
		if (got < 0)
			return FILE_ERROR;
		if ((total += got) > max)
			return FILE_TOO_BIG;
		end = chunk + have + got;
		while ((eol = memchr(p, '\n', (size_t)(end - p))) != NULL) {
			if ((r = fn(ctx, p, eol)) != 0)
				return r;
			p = eol + 1;
		}
		have = (size_t)(end - p);
		if (got == 0)        /* the end: a last line without "\n" */
			return have > 0 && (r = fn(ctx, p, end)) != 0 ? r : FILE_OK;
		if (have == sizeof chunk)
			return FILE_LONG_LINE;
		memmove(chunk, p, have);
	}
}

int
file_lines(const char *path, off_t max, int (*fn)(void *ctx, const char *line, const char *end),
    void *ctx)
{
	struct stat st;
	int r, fd = file_open(AT_FDCWD, path, 0, &st, &r);

	if (fd < 0)
		return r;
	r = file_each_line(fd, st.st_size, max, fn, ctx);
	close(fd);
	return r;
}

/* The kernel's struct linux_dirent64: u64 d_ino, s64 d_off, u16 d_reclen,
 * u8 d_type, then the NUL-terminated name; records are 8-byte aligned. */
#define DIRENT_RECLEN_OFF 16
#define DIRENT_TYPE_OFF   18
#define DIRENT_NAME_OFF   19

int
file_each_entry(int dfd, void (*fn)(void *ctx, const char *name, unsigned char type), void *ctx)
{
	/* 8 KiB: a directory the size of a distribution's /etc in one call. */
	_Alignas(8) char dents[8192];

	for (int first = 1;; first = 0) {
		long got = syscall(SYS_getdents64, dfd, dents, sizeof dents);

		if (got < 0)
			return -1;
		/* A directory always lists "." and "..": nothing at the first read means
		 * an earlier listing read to the end. Start over (once). */
		if (got == 0 && first) {
			if (lseek(dfd, 0, SEEK_SET) != 0)
				return -1;
			continue;
		}
		if (got == 0)
			return 0;
		for (long off = 0; off < got;) {
			unsigned short reclen;
			const char *name = dents + off + DIRENT_NAME_OFF;

			memcpy(&reclen, dents + off + DIRENT_RECLEN_OFF, sizeof reclen);
			if (reclen == 0)
				break;
			/* every entry but "." and ".." */
			if (!(name[0] == '.' && (name[1] == '\0' || (name[1] == '.' && name[2] == '\0'))))
				fn(ctx, name, (unsigned char)dents[off + DIRENT_TYPE_OFF]);
			off += reclen;
		}
	}
}
