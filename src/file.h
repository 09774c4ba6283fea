/*
 * file: the one way anontel opens and reads a file it is given or finds (config,
 * CA file, machine-id, os-release, DMI, /proc, the state dir's files).
 *
 * Every file is opened O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC and refused
 * unless fstat says it is a regular file: a FIFO, a device or a directory planted
 * under a name anontel reads never blocks a run or feeds it endless bytes, and a
 * terminal never becomes its controlling one. Reads are bounded by the caller's
 * buffer and go to end of file: a read that brings the size fstat gave ends there
 * (no read spent to see the end), else reads go on to a read of 0 (the size fstat
 * gives /proc and /sys files is not their length). Directories are listed without
 * readdir's allocation. Nothing here prints.
 */
#ifndef ANONTEL_FILE_H
#define ANONTEL_FILE_H

#include <stddef.h>
#include <sys/stat.h>

enum file_result {
	FILE_OK = 1,
	FILE_ABSENT = 0,          /* ENOENT or ENOTDIR: not there */
	FILE_ERROR = -1,          /* open, fstat or read failed: errno says why */
	FILE_NOT_REGULAR = -2,    /* a FIFO, device, directory, socket (refused) */
	FILE_TOO_BIG = -3,        /* more than the caller's cap */
	FILE_LONG_LINE = -4       /* file_each_line: a line longer than FILE_LINE_MAX */
};

#define FILE_LINE_MAX 16383       /* bytes of a line file_each_line takes, "\n" aside */

/*
 * Opens path (relative to dirfd, which may be AT_FDCWD) as described above, with
 * extra open flags (e.g. O_NOFOLLOW) and fills *st. Returns the descriptor (*why
 * FILE_OK), or -1 with *why FILE_ABSENT, FILE_ERROR (errno kept) or
 * FILE_NOT_REGULAR.
 */
int file_open(int dirfd, const char *path, int flags, struct stat *st, int *why);

/*
 * Reads the whole of path into buf[cap] (not NUL-terminated), *len its length.
 * Returns FILE_OK, or another enum file_result with *len 0; except FILE_TOO_BIG,
 * when the file holds more than cap bytes: buf then holds the first cap bytes
 * and *len is cap (for readers that only need the start of a file).
 */
int file_read(int dirfd, const char *path, int flags, char *buf, size_t cap, size_t *len);

/* file_read, and *st the file's status when it was opened (valid when it returns
 * FILE_OK or FILE_TOO_BIG; written over otherwise too), e.g. to tell two paths of
 * one file apart. */
int file_read_stat(int dirfd, const char *path, int flags, char *buf, size_t cap, size_t *len,
    struct stat *st);

/*
 * Reads the file open as fd (st_size bytes when it was opened: no read is spent to
 * see its end) a chunk at a time and calls fn(ctx, line, end) for each line, "\n"
 * not included; a last line without "\n" is a line too. Memory stays one chunk
 * however large the file. Returns FILE_OK; FILE_TOO_BIG past max bytes;
 * FILE_LONG_LINE for a line longer than FILE_LINE_MAX; FILE_ERROR (errno) when a
 * read fails; or the first non-zero value fn returns, which stops the reading
 * (a value no file_result has, so the two are told apart).
 */
int file_each_line(int fd, off_t st_size, off_t max, int (*fn)(void *ctx, const char *line,
    const char *end), void *ctx);

/* file_each_line over the file at path, opened as file_open opens it (and closed):
 * its result, or file_open's reason when the file cannot be opened. */
int file_lines(const char *path, off_t max, int (*fn)(void *ctx, const char *line,
    const char *end), void *ctx);

/*
 * Calls fn(ctx, name, d_type) for each entry of the directory open as dfd except
 * "." and "..", from its start: dfd's offset moves, so dfd must be the caller's
 * own. d_type is DT_UNKNOWN where the file system does not say. No allocation
 * (getdents64 into the stack), unlike readdir. Returns 0, or -1 with errno set.
 */
int file_each_entry(int dfd, void (*fn)(void *ctx, const char *name, unsigned char type),
    void *ctx);

#endif
