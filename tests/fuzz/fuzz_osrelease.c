/*
 * fuzz_osrelease: facts_os_read over a private root whose release files come from
 * the input.
 *
 * The input is cut at each "\n%%\n" into up to four parts, written to
 *   root/etc/os-release, root/usr/lib/os-release, root/etc/openwrt_release and
 *   root/etc/lsb-release
 * (a part that is not there removes its file, so "absent" is exercised too).
 * Invariants: the three results are NUL-terminated within FACTS_TEXT_MAX; distro
 * and release are never empty (as C strings: a value that starts with a NUL byte,
 * which facts.h keeps as it is, reads as ""; so only when no file holds a NUL); when every part is valid UTF-8, so is every result
 * (the cuts at 511 and 127 bytes must fall on character boundaries); and reading
 * twice gives the same answer.
 */
#include "fuzz_util.h"

#include "facts.h"

#define SEP "\n%%\n"

static char root[512];
static char files[4][600];
static const char *const rel[4] = {
	"etc/os-release", "usr/lib/os-release", "etc/openwrt_release", "etc/lsb-release",
};

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char d[600];

	(void)argc;
	(void)argv;
	snprintf(root, sizeof root, "%s", fz_tmpdir("osrelease"));
	fz_path(d, sizeof d, root, "etc");
	mkdir(d, 0700);
	fz_path(d, sizeof d, root, "usr");
	mkdir(d, 0700);
	fz_path(d, sizeof d, root, "usr/lib");
	mkdir(d, 0700);
	for (int i = 0; i < 4; i++)
		fz_path(files[i], sizeof files[i], root, rel[i]);
	return 0;
}

static void
check_text(const char *what, const char *s, int utf8, int nonempty)
{
	const char *nul = memchr(s, '\0', FACTS_TEXT_MAX);

	FUZZ_CHECK(nul != NULL, "%s is not terminated within %d bytes", what, FACTS_TEXT_MAX);
	if (nonempty)
		FUZZ_CHECK(nul > s, "%s is empty", what);
	if (utf8)
		FUZZ_CHECK(fz_utf8_valid(s, (size_t)(nul - s)), "%s is not valid UTF-8 "
		    "although every input file is", what);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t off[4], len[4], n;
	struct facts_os a, b;
	int utf8 = 1, nul = memchr(data, '\0', size) != NULL;

	n = fz_split(data, size, SEP, sizeof SEP - 1, 4, off, len);
	for (size_t i = 0; i < 4; i++) {
		if (i < n) {
			fz_write_file(files[i], data + off[i], len[i]);
			utf8 &= fz_utf8_valid(data + off[i], len[i]);
		} else {
			unlink(files[i]);
		}
	}
	memset(&a, 0xA5, sizeof a);
	facts_os_read(&a, root);
	check_text("distro", a.distro, utf8, !nul);
	check_text("release", a.release, utf8, !nul);
	check_text("codename", a.codename, utf8, 0);

	memset(&b, 0x5A, sizeof b);
	facts_os_read(&b, root);
	FUZZ_CHECK(strcmp(a.distro, b.distro) == 0 && strcmp(a.release, b.release) == 0 &&
	    strcmp(a.codename, b.codename) == 0, "a second read differs");
	return 0;
}
