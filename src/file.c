#include "file.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
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
	size_t n = 0;
	int r, fd = file_open(dirfd, path, flags, &st, &r);

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
	}
	if (r == FILE_ERROR) {
		int e = errno;

		close(fd);
		errno = e;
		return r;
	}
	close(fd);
	*len = n;
	return r;
}
