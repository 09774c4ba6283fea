/*
 * test_facts: arch mapping, os-release facts from real distributions' files in
 * temporary root trees, VM detection from fake roots, and the running system
 * against systemd-detect-virt.
 */
#define _XOPEN_SOURCE 700
#include "check.h"
#include "facts.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/utsname.h>
#include <unistd.h>

/* ---- temporary trees ------------------------------------------------------- */

/* One node of a fixture tree: 'f' file (data, may hold "\0" via len), 'l' symlink
 * (data = target), 'd' directory, 'p' FIFO, 'u' file with mode 000. */
struct node {
	char kind;
	const char *path;
	const char *data;
	size_t len;  /* for 'f': 0 means strlen(data) */
};

#define NODES_MAX 12

static void
mkparents(char *path)
{
	for (char *s = path + 1; *s; s++)
		if (*s == '/') {
			*s = '\0';
			mkdir(path, 0755);
			*s = '/';
		}
}

static void
put_node(const char *root, const struct node *n)
{
	char path[1024];
	FILE *f;

	snprintf(path, sizeof path, "%s%s", root, n->path);
	mkparents(path);
	switch (n->kind) {
	case 'f':
	case 'u':
		f = fopen(path, "wb");
		CHECKF(f != NULL, "cannot create %s", path);
		if (f == NULL)
			return;
		fwrite(n->data, 1, n->len ? n->len : strlen(n->data), f);
		fclose(f);
		if (n->kind == 'u')
			chmod(path, 0);
		break;
	case 'l':
		CHECKF(symlink(n->data, path) == 0, "cannot link %s", path);
		break;
	case 'd':
		CHECKF(mkdir(path, 0755) == 0, "cannot mkdir %s", path);
		break;
	case 'p':
		CHECKF(mkfifo(path, 0644) == 0, "cannot mkfifo %s", path);
		break;
	}
}

static void
make_root(char *root, size_t cap, const struct node *nodes, size_t n)
{
	snprintf(root, cap, "/tmp/anontel-facts-XXXXXX");
	if (mkdtemp(root) == NULL) {
		CHECKF(0, "mkdtemp failed");
		root[0] = '\0';
		return;
	}
	for (size_t i = 0; i < n && nodes[i].kind; i++)
		put_node(root, &nodes[i]);
}

static int
rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	remove(path);
	return 0;
}

static void
remove_root(const char *root)
{
	if (root[0] && strncmp(root, "/tmp/anontel-facts-", 19) == 0)
		nftw(root, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* ---- arch ------------------------------------------------------------------ */

static void
t_arch(void)
{
	static const struct {
		const char *machine, *want;
	} rows[] = {
		{ "x86_64", "x64" },       { "aarch64", "arm64" },   { "arm64", "arm64" },
		{ "armv6l", "arm" },       { "armv7l", "arm" },      { "armv8l", "arm" },
		{ "armv5tel", "arm" },     { "i386", "ia32" },       { "i486", "ia32" },
		{ "i586", "ia32" },        { "i686", "ia32" },       { "mipsel", "mipsel" },
		{ "ppc64le", "ppc64" },    { "s390x", "s390x" },     { "riscv64", "riscv64" },
		{ "loongarch64", "loong64" }, { "ppc64", "ppc64" },  { "sparc64", "sparc64" },
		{ "aarch64_be", "aarch64_be" }, { "", "" },           { "x86", "x86" },
#if defined(__mips__) && defined(__MIPSEL__)
		{ "mips", "mipsel" },      { "mips64", "mips64el" },
#else
		{ "mips", "mips" },        { "mips64", "mips64" },
#endif
	};
	char out[FACTS_TEXT_MAX];

	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		memset(out, 'Z', sizeof out);
		facts_arch(rows[i].machine, out, sizeof out);
		CHECK_STR(out, rows[i].want, rows[i].machine);
	}
}

static void
t_arch_bounded(void)
{
	char small[4], unknown[8];

	memset(small, 'Z', sizeof small);
	facts_arch("x86_64", small, sizeof small);
	CHECK_STR(small, "x64", "fits exactly");
	facts_arch("loongarch64", small, sizeof small);
	CHECK_STR(small, "loo", "cut to outlen-1");
	facts_arch("verylongmachine", unknown, sizeof unknown);
	CHECK_STR(unknown, "verylon", "unknown name cut");
	small[0] = 'Z';
	facts_arch("x86_64", small, 0);
	CHECK(small[0] == 'Z');
}

/* ---- os-release: real distributions ---------------------------------------- */

struct os_row {
	const char *name;
	struct node nodes[NODES_MAX];
	const char *distro, *release, *codename;
};

#define DEBIAN12 \
	"PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n" \
	"NAME=\"Debian GNU/Linux\"\n" \
	"VERSION_ID=\"12\"\n" \
	"VERSION=\"12 (bookworm)\"\n" \
	"VERSION_CODENAME=bookworm\n" \
	"ID=debian\n" \
	"HOME_URL=\"https://www.debian.org/\"\n" \
	"SUPPORT_URL=\"https://www.debian.org/support\"\n" \
	"BUG_REPORT_URL=\"https://bugs.debian.org/\"\n"

#define DEBIAN12_CRLF \
	"PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\r\n" \
	"NAME=\"Debian GNU/Linux\"\r\n" \
	"VERSION_ID=\"12\"\r\n" \
	"VERSION=\"12 (bookworm)\"\r\n" \
	"VERSION_CODENAME=bookworm\r\n" \
	"ID=debian\r\n"

#define UBUNTU2204 \
	"PRETTY_NAME=\"Ubuntu 22.04.3 LTS\"\n" \
	"NAME=\"Ubuntu\"\n" \
	"VERSION_ID=\"22.04\"\n" \
	"VERSION=\"22.04.3 LTS (Jammy Jellyfish)\"\n" \
	"VERSION_CODENAME=jammy\n" \
	"ID=ubuntu\n" \
	"ID_LIKE=debian\n" \
	"HOME_URL=\"https://www.ubuntu.com/\"\n" \
	"SUPPORT_URL=\"https://help.ubuntu.com/\"\n" \
	"BUG_REPORT_URL=\"https://bugs.launchpad.net/ubuntu/\"\n" \
	"PRIVACY_POLICY_URL=\"https://www.ubuntu.com/legal/terms-and-policies/privacy-policy\"\n" \
	"UBUNTU_CODENAME=jammy\n"

#define UBUNTU_LSB \
	"DISTRIB_ID=Ubuntu\n" \
	"DISTRIB_RELEASE=22.04\n" \
	"DISTRIB_CODENAME=jammy\n" \
	"DISTRIB_DESCRIPTION=\"Ubuntu 22.04.3 LTS\"\n"

#define ALPINE318 \
	"NAME=\"Alpine Linux\"\n" \
	"ID=alpine\n" \
	"VERSION_ID=3.18.4\n" \
	"PRETTY_NAME=\"Alpine Linux v3.18\"\n" \
	"HOME_URL=\"https://alpinelinux.org/\"\n" \
	"BUG_REPORT_URL=\"https://gitlab.alpinelinux.org/alpine/aports/-/issues\"\n"

#define FEDORA39_CONTAINER \
	"NAME=\"Fedora Linux\"\n" \
	"VERSION=\"39 (Container Image)\"\n" \
	"ID=fedora\n" \
	"VERSION_ID=39\n" \
	"VERSION_CODENAME=\"\"\n" \
	"PLATFORM_ID=\"platform:f39\"\n" \
	"PRETTY_NAME=\"Fedora Linux 39 (Container Image)\"\n" \
	"ANSI_COLOR=\"0;38;2;60;110;180\"\n" \
	"LOGO=fedora-logo-icon\n" \
	"CPE_NAME=\"cpe:/o:fedoraproject:fedora:39\"\n" \
	"DEFAULT_HOSTNAME=\"fedora\"\n" \
	"HOME_URL=\"https://fedoraproject.org/\"\n" \
	"DOCUMENTATION_URL=\"https://docs.fedoraproject.org/en-US/fedora/f39/system-administrators-guide/\"\n" \
	"SUPPORT_URL=\"https://ask.fedoraproject.org/\"\n" \
	"BUG_REPORT_URL=\"https://bugzilla.redhat.com/\"\n" \
	"REDHAT_BUGZILLA_PRODUCT=\"Fedora\"\n" \
	"REDHAT_BUGZILLA_PRODUCT_VERSION=39\n" \
	"REDHAT_SUPPORT_PRODUCT=\"Fedora\"\n" \
	"REDHAT_SUPPORT_PRODUCT_VERSION=39\n" \
	"SUPPORT_END=2024-11-12\n" \
	"VARIANT=\"Container Image\"\n" \
	"VARIANT_ID=container\n"

#define ROCKY93 \
	"NAME=\"Rocky Linux\"\n" \
	"VERSION=\"9.3 (Blue Onyx)\"\n" \
	"ID=\"rocky\"\n" \
	"ID_LIKE=\"rhel centos fedora\"\n" \
	"VERSION_ID=\"9.3\"\n" \
	"PLATFORM_ID=\"platform:el9\"\n" \
	"PRETTY_NAME=\"Rocky Linux 9.3 (Blue Onyx)\"\n" \
	"ANSI_COLOR=\"0;32\"\n" \
	"LOGO=\"fedora-logo-icon\"\n" \
	"CPE_NAME=\"cpe:/o:rocky:rocky:9::baseos\"\n" \
	"HOME_URL=\"https://rockylinux.org/\"\n" \
	"BUG_REPORT_URL=\"https://bugs.rockylinux.org/\"\n" \
	"SUPPORT_END=\"2032-05-31\"\n" \
	"ROCKY_SUPPORT_PRODUCT=\"Rocky-Linux-9\"\n" \
	"ROCKY_SUPPORT_PRODUCT_VERSION=\"9.3\"\n" \
	"REDHAT_SUPPORT_PRODUCT=\"Rocky Linux\"\n" \
	"REDHAT_SUPPORT_PRODUCT_VERSION=\"9.3\"\n"

#define LEAP155 \
	"NAME=\"openSUSE Leap\"\n" \
	"VERSION=\"15.5\"\n" \
	"ID=\"opensuse-leap\"\n" \
	"ID_LIKE=\"suse opensuse\"\n" \
	"VERSION_ID=\"15.5\"\n" \
	"PRETTY_NAME=\"openSUSE Leap 15.5\"\n" \
	"ANSI_COLOR=\"0;32\"\n" \
	"CPE_NAME=\"cpe:/o:opensuse:leap:15.5\"\n" \
	"BUG_REPORT_URL=\"https://bugs.opensuse.org\"\n" \
	"HOME_URL=\"https://www.opensuse.org/\"\n" \
	"DOCUMENTATION_URL=\"https://en.opensuse.org/Portal:Leap\"\n" \
	"LOGO=\"distributor-logo-Leap\"\n"

#define ARCH \
	"NAME=\"Arch Linux\"\n" \
	"PRETTY_NAME=\"Arch Linux\"\n" \
	"ID=arch\n" \
	"BUILD_ID=rolling\n" \
	"ANSI_COLOR=\"38;2;23;147;209\"\n" \
	"HOME_URL=\"https://archlinux.org/\"\n" \
	"DOCUMENTATION_URL=\"https://wiki.archlinux.org/\"\n" \
	"SUPPORT_URL=\"https://bbs.archlinux.org/\"\n" \
	"BUG_REPORT_URL=\"https://gitlab.archlinux.org/groups/archlinux/-/issues\"\n" \
	"PRIVACY_POLICY_URL=\"https://terms.archlinux.org/docs/privacy-policy/\"\n" \
	"LOGO=archlinux-logo\n"

#define OPENWRT2305 \
	"NAME=\"OpenWrt\"\n" \
	"VERSION=\"23.05.2\"\n" \
	"ID=\"openwrt\"\n" \
	"ID_LIKE=\"lede openwrt\"\n" \
	"PRETTY_NAME=\"OpenWrt 23.05.2\"\n" \
	"VERSION_ID=\"23.05.2\"\n" \
	"HOME_URL=\"https://openwrt.org/\"\n" \
	"BUG_URL=\"https://bugs.openwrt.org/\"\n" \
	"SUPPORT_URL=\"https://forum.openwrt.org/\"\n" \
	"BUILD_ID=\"r23630-842932a63d\"\n" \
	"OPENWRT_BOARD=\"x86/64\"\n" \
	"OPENWRT_ARCH=\"x86_64\"\n" \
	"OPENWRT_TAINTS=\"\"\n" \
	"OPENWRT_DEVICE_MANUFACTURER=\"OpenWrt\"\n" \
	"OPENWRT_DEVICE_MANUFACTURER_URL=\"https://openwrt.org/\"\n" \
	"OPENWRT_DEVICE_PRODUCT=\"Generic\"\n" \
	"OPENWRT_DEVICE_REVISION=\"v0\"\n" \
	"OPENWRT_RELEASE=\"OpenWrt 23.05.2 r23630-842932a63d\"\n"

#define OPENWRT_RELEASE \
	"DISTRIB_ID='OpenWrt'\n" \
	"DISTRIB_RELEASE='23.05.2'\n" \
	"DISTRIB_REVISION='r23630-842932a63d'\n" \
	"DISTRIB_TARGET='x86/64'\n" \
	"DISTRIB_ARCH='x86_64'\n" \
	"DISTRIB_DESCRIPTION='OpenWrt 23.05.2 r23630-842932a63d'\n" \
	"DISTRIB_TAINTS=''\n"

#define BUILDROOT \
	"NAME=Buildroot\n" \
	"VERSION=2023.02.8\n" \
	"ID=buildroot\n" \
	"VERSION_ID=2023.02.8\n" \
	"PRETTY_NAME=\"Buildroot 2023.02.8\"\n"

#define LINK_OS { 'l', "/etc/os-release", "../usr/lib/os-release", 0 }

static const struct os_row os_rows[] = {
	{ "debian12", { LINK_OS, { 'f', "/usr/lib/os-release", DEBIAN12, 0 } },
	  "Debian GNU/Linux", "12", "bookworm" },
	{ "debian12_crlf", { { 'f', "/etc/os-release", DEBIAN12_CRLF, 0 } },
	  "Debian GNU/Linux", "12", "bookworm" },
	{ "ubuntu22043", { LINK_OS, { 'f', "/usr/lib/os-release", UBUNTU2204, 0 },
	  { 'f', "/etc/lsb-release", UBUNTU_LSB, 0 } },
	  "Ubuntu", "22.04.3 LTS", "Jammy Jellyfish" },
	{ "ubuntu_lsb_only", { { 'f', "/etc/lsb-release", UBUNTU_LSB, 0 } },
	  "Ubuntu", "22.04", "jammy" },
	{ "alpine3184", { { 'f', "/etc/os-release", ALPINE318, 0 },
	  { 'f', "/etc/alpine-release", "3.18.4\n", 0 } },
	  "Alpine Linux", "3.18.4", "" },
	{ "fedora39_container", { LINK_OS, { 'f', "/usr/lib/os-release", FEDORA39_CONTAINER, 0 },
	  { 'f', "/etc/fedora-release", "Fedora release 39 (Thirty Nine)\n", 0 },
	  { 'l', "/etc/redhat-release", "fedora-release", 0 },
	  { 'l', "/etc/system-release", "fedora-release", 0 } },
	  "Fedora Linux", "39", "Container Image" },
	{ "rocky93", { { 'f', "/etc/os-release", ROCKY93, 0 },
	  { 'f', "/etc/rocky-release", "Rocky Linux release 9.3 (Blue Onyx)\n", 0 },
	  { 'l', "/etc/redhat-release", "rocky-release", 0 },
	  { 'l', "/etc/system-release", "rocky-release", 0 } },
	  "Rocky Linux", "9.3", "Blue Onyx" },
	{ "opensuse_leap155", { LINK_OS, { 'f', "/usr/lib/os-release", LEAP155, 0 } },
	  "openSUSE Leap", "15.5", "" },
	/* No VERSION, VERSION_ID or DISTRIB_RELEASE: BUILD_ID is not consulted. */
	{ "arch", { LINK_OS, { 'f', "/usr/lib/os-release", ARCH, 0 },
	  { 'f', "/etc/arch-release", "", 0 } },
	  "Arch Linux", "unknown", "" },
	{ "openwrt23052", { LINK_OS, { 'f', "/usr/lib/os-release", OPENWRT2305, 0 },
	  { 'f', "/etc/openwrt_release", OPENWRT_RELEASE, 0 },
	  { 'f', "/etc/openwrt_version", "r23630-842932a63d\n", 0 } },
	  "OpenWrt", "23.05.2", "" },
	/* openwrt_release alone: not matched by the glob, read last anyway. */
	{ "openwrt_release_only", { { 'f', "/etc/openwrt_release", OPENWRT_RELEASE, 0 } },
	  "OpenWrt", "23.05.2", "" },
	{ "buildroot", { LINK_OS, { 'f', "/usr/lib/os-release", BUILDROOT, 0 } },
	  "Buildroot", "2023.02.8", "" },
	{ "no_files", { { 0, NULL, NULL, 0 } }, "unknown", "unknown", "" },
	{ "empty_etc", { { 'd', "/etc", NULL, 0 }, { 'd', "/usr/lib", NULL, 0 } },
	  "unknown", "unknown", "" },

	/* ---- the rules, one at a time ---- */
	/* Name order: a-release, b-release, os-release; /usr/lib after /etc. */
	{ "later_file_wins", { { 'f', "/etc/b-release", "NAME=B\nVERSION_ID=2\n", 0 },
	  { 'f', "/etc/a-release", "NAME=A\nVERSION_ID=1\nDISTRIB_CODENAME=a\n", 0 } },
	  "B", "2", "a" },
	{ "usr_lib_after_etc", { { 'f', "/etc/os-release", "NAME=Etc\n", 0 },
	  { 'f', "/usr/lib/os-release", "NAME=UsrLib\n", 0 } },
	  "UsrLib", "unknown", "" },
	{ "openwrt_release_last", { { 'f', "/etc/openwrt_release", "DISTRIB_ID=Last\n", 0 },
	  { 'f', "/usr/lib/os-release", "DISTRIB_ID=UsrLib\n", 0 },
	  { 'f', "/etc/zz-release", "DISTRIB_ID=Glob\n", 0 } },
	  "Last", "unknown", "" },
	/* strcmp order: "Z" < "a"; "-release" itself matches "*-release". */
	{ "strcmp_order", { { 'f', "/etc/a-release", "NAME=lower\n", 0 },
	  { 'f', "/etc/Z-release", "NAME=upper\n", 0 },
	  { 'f', "/etc/-release", "NAME=dash\n", 0 } },
	  "lower", "unknown", "" },
	{ "glob_skips", { { 'f', "/etc/.hidden-release", "NAME=hidden\n", 0 },
	  { 'f', "/etc/release", "NAME=plain\n", 0 },
	  { 'f', "/etc/os-release.bak", "NAME=backup\n", 0 },
	  { 'f', "/etc/foo_release", "NAME=underscore\n", 0 },
	  { 'f', "/etc/..-release", "NAME=dots\n", 0 } },
	  "unknown", "unknown", "" },
	{ "later_empty_unsets", { { 'f', "/etc/a-release", "NAME=First\nVERSION_ID=1\n", 0 },
	  { 'f', "/etc/b-release", "NAME=\nVERSION_ID=\"\"\n", 0 } },
	  "unknown", "unknown", "" },
	{ "distrib_id_over_name", { { 'f', "/etc/os-release", "DISTRIB_ID=Dist\nNAME=Name\n", 0 } },
	  "Dist", "unknown", "" },
	{ "release_chain", { { 'f', "/etc/os-release",
	  "VERSION_ID=3\nDISTRIB_RELEASE=2\nVERSION=\n", 0 } },
	  "unknown", "2", "" },
	{ "codename_chain", { { 'f', "/etc/os-release",
	  "VERSION_CODENAME=vc\nDISTRIB_CODENAME=dc\nVERSION=22.04\n", 0 } },
	  "unknown", "22.04", "dc" },
	{ "version_codename_only", { { 'f', "/etc/os-release",
	  "VERSION_CODENAME=trixie\nVERSION_ID=13\n", 0 } },
	  "unknown", "13", "trixie" },
	/* "(" in VERSION beats DISTRIB_CODENAME; text between the 1st and 2nd "(". */
	{ "paren_beats_distrib_codename", { { 'f', "/etc/os-release",
	  "DISTRIB_CODENAME=dc\nVERSION=\"1 (a) (b)\"\n", 0 } },
	  "unknown", "1", "a" },
	{ "paren_only", { { 'f', "/etc/os-release",
	  "VERSION=\"(Rolling)\"\nVERSION_ID=5\n", 0 } },
	  "unknown", "5", "Rolling" },
	{ "paren_unclosed", { { 'f', "/etc/os-release", "VERSION=\"2.0 ( x y \"\n", 0 } },
	  "unknown", "2.0", "x y" },
	{ "paren_empty", { { 'f', "/etc/os-release",
	  "VERSION=\"7 ()\"\nVERSION_CODENAME=seven\n", 0 } },
	  "unknown", "7", "" },
	{ "key_trim_case", { { 'f', "/etc/os-release",
	  "  name =  Foo Bar  \n\tVersion_Id\t=\t'9'\t\n", 0 } },
	  "Foo Bar", "9", "" },
	{ "double_quote_escapes", { { 'f', "/etc/os-release",
	  "NAME=\"a \\\"b\\\" \\\\ \\` \\$ \\x\"\n", 0 } },
	  "a \"b\" \\ ` $ \\x", "unknown", "" },
	{ "single_quotes_literal", { { 'f', "/etc/os-release",
	  "NAME='a \\\"b'\n", 0 } },
	  "a \\\"b", "unknown", "" },
	{ "backslash_nul", { { 'f', "/etc/os-release", "NAME=\"a\\\0b\"\n", 12 } },
	  "a\\", "unknown", "" },
	{ "unquoted_kept", { { 'f', "/etc/os-release", "NAME=a\\ b\n", 0 } },
	  "a\\ b", "unknown", "" },
	{ "unterminated_quote", { { 'f', "/etc/os-release", "NAME=\"abc\n", 0 } },
	  "abc", "unknown", "" },
	{ "after_closing_quote", { { 'f', "/etc/os-release", "NAME=\"abc\"def\n", 0 } },
	  "abc", "unknown", "" },
	{ "value_with_equals", { { 'f', "/etc/os-release", "NAME=\"a=b\"\n", 0 } },
	  "a=b", "unknown", "" },
	{ "comments_and_junk", { { 'f', "/etc/os-release",
	  "# NAME=commented\n   # VERSION_ID=1\nNAME Without equals\n\n=\n=orphan\nNAME=Real\n", 0 } },
	  "Real", "unknown", "" },
	{ "no_trailing_newline", { { 'f', "/etc/os-release", "NAME=x\nVERSION_ID=4", 0 } },
	  "x", "4", "" },
	{ "bom_and_nbsp_trimmed", { { 'f', "/etc/os-release",
	  "\xEF\xBB\xBF" "NAME=\xC2\xA0" "Foo\xE3\x80\x80\n", 0 } },
	  "Foo", "unknown", "" },
	{ "nul_in_file", { { 'f', "/etc/os-release", "NAME=a\0b\nVERSION_ID=6\n", 22 } },
	  "a", "6", "" },
	/* Not regular files, or not there: absent. */
	{ "odd_files_absent", { { 'd', "/etc/dir-release", NULL, 0 },
	  { 'p', "/etc/fifo-release", NULL, 0 },
	  { 'l', "/etc/gone-release", "/nonexistent/x", 0 },
	  { 'l', "/etc/null-release", "/dev/null", 0 },
	  { 'l', "/etc/zero-release", "/dev/zero", 0 },
	  { 'd', "/usr/lib/os-release", NULL, 0 },
	  { 'f', "/etc/a-release", "NAME=Survivor\n", 0 } },
	  "Survivor", "unknown", "" },
};

static int
os_equal(const struct facts_os *os, const char *name, const char *distro,
    const char *release, const char *codename)
{
	int ok = strcmp(os->distro, distro) == 0 && strcmp(os->release, release) == 0 &&
	    strcmp(os->codename, codename) == 0;

	CHECKF(ok, "%s: got (\"%s\", \"%s\", \"%s\"), want (\"%s\", \"%s\", \"%s\")", name,
	    os->distro, os->release, os->codename, distro, release, codename);
	return ok;
}

static void
os_case(const char *name, const struct node *nodes, size_t n, const char *distro,
    const char *release, const char *codename)
{
	char root[64];
	struct facts_os os;

	make_root(root, sizeof root, nodes, n);
	if (!root[0])
		return;
	memset(&os, 'Z', sizeof os);
	facts_os_read(&os, root);
	os_equal(&os, name, distro, release, codename);
	remove_root(root);
}

static void
t_os_rows(void)
{
	for (size_t i = 0; i < sizeof os_rows / sizeof os_rows[0]; i++)
		os_case(os_rows[i].name, os_rows[i].nodes, NODES_MAX, os_rows[i].distro,
		    os_rows[i].release, os_rows[i].codename);
}

static void repeat(char *out, size_t cap, const char *head, const char *unit,
    size_t times, const char *tail);

/* The same tree reached through a root with a trailing slash, and a root too long. */
static void
t_os_root_forms(void)
{
	const struct node nodes[] = { { 'f', "/etc/os-release", DEBIAN12, 0 } };
	char root[64], slash[80], huge[2048];
	struct facts_os os;

	make_root(root, sizeof root, nodes, 1);
	if (!root[0])
		return;
	snprintf(slash, sizeof slash, "%s/", root);
	facts_os_read(&os, slash);
	os_equal(&os, "trailing slash", "Debian GNU/Linux", "12", "bookworm");
	/* root/././.../. names the same tree, but is longer than the 1 KiB path bound. */
	repeat(huge, sizeof huge, root, "/.", 1000, "");
	facts_os_read(&os, huge);
	os_equal(&os, "root longer than a path", "unknown", "unknown", "");
	repeat(huge, sizeof huge, root, "/.", 100, "");
	facts_os_read(&os, huge);
	os_equal(&os, "root/./. within bound", "Debian GNU/Linux", "12", "bookworm");
	remove_root(root);
}

/* More than 32 release files: the 32 smallest names are read, in order. */
static void
t_os_many_files(void)
{
	struct node nodes[41];
	char paths[40][32], data[40][32];
	char root[64];
	struct facts_os os;

	for (int i = 0; i < 40; i++) {
		snprintf(paths[i], sizeof paths[i], "/etc/r%02d-release", 39 - i);
		snprintf(data[i], sizeof data[i], "NAME=r%02d\n", 39 - i);
		nodes[i] = (struct node){ 'f', paths[i], data[i], 0 };
	}
	nodes[40] = (struct node){ 0, NULL, NULL, 0 };
	make_root(root, sizeof root, nodes, 41);
	if (!root[0])
		return;
	facts_os_read(&os, root);
	os_equal(&os, "40 release files", "r31", "unknown", "");
	remove_root(root);
}

/* Unreadable (mode 000): absent, unless we run as root, who reads it anyway. */
static void
t_os_unreadable(void)
{
	const struct node nodes[] = {
		{ 'f', "/etc/a-release", "NAME=Readable\n", 0 },
		{ 'u', "/etc/z-release", "NAME=Locked\n", 0 },
	};

	os_case("unreadable", nodes, 2, geteuid() == 0 ? "Locked" : "Readable", "unknown", "");
}

/* ---- os-release: lengths -------------------------------------------------- */

static void
repeat(char *out, size_t cap, const char *head, const char *unit, size_t times,
    const char *tail)
{
	size_t n = 0;

	n += (size_t)snprintf(out + n, cap - n, "%s", head);
	for (size_t i = 0; i < times && n < cap; i++)
		n += (size_t)snprintf(out + n, cap - n, "%s", unit);
	if (n < cap)
		snprintf(out + n, cap - n, "%s", tail);
}

static void
t_os_utf8_truncation(void)
{
	static const struct {
		const char *name, *head, *unit;
		size_t times;
		const char *want_head, *want_unit;
		size_t want_times;
	} rows[] = {
		{ "ascii 300", "", "a", 300, "", "a", 127 },
		/* "ab" + 3-byte euro signs: byte 127 is inside the 42nd sign. */
		{ "euro", "ab", "\xE2\x82\xAC", 100, "ab", "\xE2\x82\xAC", 41 },
		/* 4-byte emoji: 31 fit in 124 bytes, the 32nd would end at 128. */
		{ "emoji", "", "\xF0\x9F\x98\x80", 60, "", "\xF0\x9F\x98\x80", 31 },
		/* 800 bytes: first cut at 511 (inside a character), then at 127. */
		{ "e-acute 800 bytes", "", "\xC3\xA9", 400, "", "\xC3\xA9", 63 },
		{ "exactly 127", "", "x", 127, "", "x", 127 },
		{ "126 + 2-byte", "", "y", 126, "", "y", 126 },
	};
	char file[4096], want[256];
	struct node nodes[2] = { { 'f', "/etc/os-release", file, 0 }, { 0, NULL, NULL, 0 } };

	for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
		char head[16];

		snprintf(head, sizeof head, "NAME=\"%s", rows[i].head);
		if (i == 5)  /* 126 y + "é": the é would straddle the cut */
			repeat(file, sizeof file, head, rows[i].unit, rows[i].times, "\xC3\xA9\"\n");
		else
			repeat(file, sizeof file, head, rows[i].unit, rows[i].times, "\"\n");
		repeat(want, sizeof want, rows[i].want_head, rows[i].want_unit,
		    rows[i].want_times, "");
		os_case(rows[i].name, nodes, 2, want, "unknown", "");
	}
}

static void
t_os_long_lines(void)
{
	static char big[12000], want[FACTS_TEXT_MAX];
	struct node nodes[2] = { { 'f', "/etc/os-release", big, 0 }, { 0, NULL, NULL, 0 } };
	size_t n;

	/* A line cut by the 8 KiB bound is ignored; what follows is not read. */
	repeat(big, sizeof big, "VERSION_ID=9\nNAME=", "x", 9000, "\nDISTRIB_ID=late\n");
	os_case("line cut by the bound", nodes, 2, "unknown", "9", "");

	/* A 5000-byte line within the bound: its value is cut to 127 bytes. */
	repeat(big, sizeof big, "NAME=", "y", 5000, "\nVERSION_ID=1\n");
	repeat(want, sizeof want, "", "y", 127, "");
	os_case("long line within the bound", nodes, 2, want, "1", "");

	/* Exactly 8192 bytes, the last line without "\n": the file ends there, so it
	 * counts. One byte more and it is the cut line. */
	n = (size_t)snprintf(big, sizeof big, "VERSION_ID=8\n#");
	memset(big + n, 'c', 8192 - n);
	memcpy(big + 8192 - 12, "\nNAME=Exact", 11);
	big[8192 - 1] = 'X';
	big[8192] = '\0';
	os_case("exactly 8 KiB", nodes, 2, "ExactX", "8", "");
	big[8192] = 'Y';
	big[8193] = '\0';
	os_case("8 KiB + 1", nodes, 2, "unknown", "8", "");
}

/* The machine's own /etc/os-release. */
static void
t_os_this_machine(void)
{
	struct facts_os os;
	int debian = 0, twelve = 0;
	FILE *f = fopen("/etc/os-release", "r");

	if (f) {
		char line[256];

		while (fgets(line, sizeof line, f)) {
			debian |= strcmp(line, "ID=debian\n") == 0;
			twelve |= strcmp(line, "VERSION_ID=\"12\"\n") == 0;
		}
		fclose(f);
	}
	facts_os_read(&os, "/");
	if (debian && twelve)
		os_equal(&os, "this Debian 12", "Debian GNU/Linux", "12", "bookworm");
	else
		CHECKF(strcmp(os.distro, "unknown") != 0, "this machine: distro unknown");
}

/* ---- virtual ----------------------------------------------------------------- */

struct virt_row {
	const char *name;
	struct node nodes[NODES_MAX];
	const char *kernel;
	int want;
};

#define DMI "/sys/class/dmi/id/"
/* SMBIOS type 0 with length 0x18 and extension byte 2 (offset 19) = 0x10 or 0. */
#define SMBIOS_VM    "A\x18" "AAAAAAAAAAAAAAAAA" "\x10" "AAAA"
#define SMBIOS_NOVM  "A\x18" "AAAAAAAAAAAAAAAAA" "\x08" "AAAA"
#define RAW "/sys/firmware/dmi/entries/0-0/raw"

static const struct virt_row virt_rows[] = {
	{ "bare_root", { { 0, NULL, NULL, 0 } }, NULL, 0 },
	{ "bare_metal_dmi", { { 'f', DMI "sys_vendor", "Dell Inc.\n", 0 },
	  { 'f', DMI "product_name", "PowerEdge R740\n", 0 },
	  { 'f', DMI "board_vendor", "Dell Inc.\n", 0 },
	  { 'f', DMI "bios_vendor", "Dell Inc.\n", 0 },
	  { 'f', RAW, SMBIOS_NOVM, 0 } }, "6.1.0-13-amd64", 0 },
	{ "qemu_sys_vendor", { { 'f', DMI "sys_vendor", "QEMU\n", 0 },
	  { 'f', DMI "product_name", "Standard PC (Q35 + ICH9, 2009)\n", 0 } }, NULL, 1 },
	{ "virtualbox_product", { { 'f', DMI "product_name", "VirtualBox\n", 0 } }, NULL, 1 },
	{ "innotek_sys_vendor", { { 'f', DMI "sys_vendor", "innotek GmbH\n", 0 } }, NULL, 1 },
	{ "vmware_sys_vendor", { { 'f', DMI "sys_vendor", "VMware, Inc.\n", 0 } }, NULL, 1 },
	{ "kvm_product", { { 'f', DMI "product_name", "KVM\n", 0 } }, NULL, 1 },
	{ "bochs_bios", { { 'f', DMI "bios_vendor", "Bochs\n", 0 } }, NULL, 1 },
	{ "xen_bios", { { 'f', DMI "bios_vendor", "Xen\n", 0 } }, NULL, 1 },
	{ "bhyve_product", { { 'f', DMI "product_name", "BHYVE\n", 0 } }, NULL, 1 },
	{ "parallels_board", { { 'f', DMI "board_vendor", "Parallels Software International Inc.\n", 0 } },
	  NULL, 1 },
	{ "gce_product", { { 'f', DMI "sys_vendor", "Google\n", 0 },
	  { 'f', DMI "product_name", "Google Compute Engine\n", 0 } }, NULL, 1 },
	{ "hyperv_product_version", { { 'f', DMI "product_version", "Hyper-V UEFI Release v4.1\n", 0 } },
	  NULL, 1 },
	{ "hyperv_dmi_pair", { { 'f', DMI "sys_vendor", "Microsoft Corporation\n", 0 },
	  { 'f', DMI "product_name", "Virtual Machine\n", 0 } }, NULL, 1 },
	{ "surface_not_vm", { { 'f', DMI "sys_vendor", "Microsoft Corporation\n", 0 },
	  { 'f', DMI "product_name", "Surface Laptop 5\n", 0 } }, NULL, 0 },
	/* Prefix match, as systemd's startswith(): "QEMU" inside is not enough. */
	{ "vendor_not_prefix", { { 'f', DMI "sys_vendor", "Not QEMU\n", 0 } }, NULL, 0 },
	{ "vendor_case_matters", { { 'f', DMI "sys_vendor", "qemu\n", 0 } }, NULL, 0 },
	{ "ec2_vm", { { 'f', DMI "sys_vendor", "Amazon EC2\n", 0 },
	  { 'f', DMI "product_name", "m5.large\n", 0 } }, NULL, 1 },
	{ "ec2_metal", { { 'f', DMI "sys_vendor", "Amazon EC2\n", 0 },
	  { 'f', DMI "product_name", "m5.metal\n", 0 } }, NULL, 0 },
	{ "ec2_metal_dash", { { 'f', DMI "sys_vendor", "Amazon EC2\n", 0 },
	  { 'f', DMI "product_name", "m7i.metal-24xl\n", 0 } }, NULL, 0 },
	{ "ec2_metalish", { { 'f', DMI "sys_vendor", "Amazon EC2\n", 0 },
	  { 'f', DMI "product_name", "x.metalx\n", 0 } }, NULL, 1 },
	/* With the SMBIOS table readable (root), its VM bit decides for EC2. */
	{ "ec2_smbios_vm", { { 'f', DMI "sys_vendor", "Amazon EC2\n", 0 },
	  { 'f', DMI "product_name", "m5.metal\n", 0 }, { 'f', RAW, SMBIOS_VM, 0 } }, NULL, 1 },
	{ "ec2_smbios_novm", { { 'f', DMI "sys_vendor", "Amazon EC2\n", 0 },
	  { 'f', DMI "product_name", "m5.large\n", 0 }, { 'f', RAW, SMBIOS_NOVM, 0 } }, NULL, 0 },
	{ "smbios_bit_alone", { { 'f', DMI "sys_vendor", "Acme\n", 0 },
	  { 'f', RAW, SMBIOS_VM, 0 } }, NULL, 1 },
	{ "smbios_too_short", { { 'f', RAW, "A\x18" "AAA", 0 } }, NULL, 0 },
	{ "hypervisor_type_xen", { { 'f', "/sys/hypervisor/type", "xen\n", 0 } }, NULL, 1 },
	{ "xen_domu", { { 'd', "/proc/xen", NULL, 0 },
	  { 'f', "/proc/xen/capabilities", "", 0 } }, NULL, 1 },
	{ "xen_dom0_capabilities", { { 'f', "/proc/xen/capabilities", "control_d\n", 0 },
	  { 'f', "/sys/hypervisor/type", "xen\n", 0 } }, NULL, 0 },
	{ "xen_dom0_features", { { 'd', "/proc/xen", NULL, 0 },
	  { 'f', "/sys/hypervisor/properties/features", "00000801\n", 0 },
	  { 'f', "/sys/hypervisor/type", "xen\n", 0 } }, NULL, 0 },
	{ "xen_domu_features", { { 'd', "/proc/xen", NULL, 0 },
	  { 'f', "/sys/hypervisor/properties/features", "0000f0f1\n", 0 },
	  { 'f', "/proc/xen/capabilities", "control_d\n", 0 } }, NULL, 1 },
	/* A dom0 still reports what DMI says systemd trusts before CPUID. */
	{ "xen_dom0_in_virtualbox", { { 'f', "/proc/xen/capabilities", "control_d\n", 0 },
	  { 'f', DMI "product_name", "VirtualBox\n", 0 } }, NULL, 1 },
	{ "device_tree_hypervisor", { { 'f', "/proc/device-tree/hypervisor/compatible",
	  "linux,kvm\0", 10 } }, NULL, 1 },
	{ "device_tree_fw_cfg", { { 'd', "/proc/device-tree/fw-cfg@9020000", NULL, 0 },
	  { 'f', "/proc/device-tree/compatible", "linux,dummy-virt\0", 17 } }, NULL, 1 },
	{ "device_tree_pseries", { { 'f', "/proc/device-tree/compatible", "qemu,pseries\0", 13 } },
	  NULL, 1 },
	{ "device_tree_board", { { 'f', "/proc/device-tree/compatible",
	  "raspberrypi,4-model-b\0brcm,bcm2711\0", 35 },
	  { 'f', "/proc/device-tree/model", "Raspberry Pi 4 Model B Rev 1.4\0", 31 } }, NULL, 0 },
	{ "powervm", { { 'f', "/proc/device-tree/ibm,partition-name", "lpar1\0", 6 },
	  { 'f', "/proc/device-tree/hmc-managed?", "", 0 } }, NULL, 1 },
	{ "uml", { { 'f', "/proc/cpuinfo",
	  "processor\t: 0\nvendor_id\t: User Mode Linux\nmodel name\t: UML\n", 0 } }, NULL, 1 },
	{ "cpuinfo_intel", { { 'f', "/proc/cpuinfo",
	  "processor\t: 0\nvendor_id\t: GenuineIntel\ncpu family\t: 6\n", 0 } }, NULL, 0 },
	{ "zvm", { { 'f', "/proc/sysinfo",
	  "Manufacturer:         IBM\nVM00 Name:            LINUX1\n"
	  "VM00 Control Program: z/VM    7.3.0\n", 0 } }, NULL, 1 },
	{ "wsl2_kernel", { { 0, NULL, NULL, 0 } }, "5.15.90.1-microsoft-standard-WSL2", 1 },
	{ "wsl1_kernel", { { 0, NULL, NULL, 0 } }, "4.4.0-19041-Microsoft", 1 },
	{ "plain_kernel", { { 0, NULL, NULL, 0 } }, "6.1.0-13-amd64", 0 },
	/* Unreadable evidence is absent, not a VM. */
	{ "dmi_is_directory", { { 'd', DMI "sys_vendor", NULL, 0 } }, NULL, 0 },
};

static void
t_virtual_rows(void)
{
	for (size_t i = 0; i < sizeof virt_rows / sizeof virt_rows[0]; i++) {
		char root[64];
		int got;

		make_root(root, sizeof root, virt_rows[i].nodes, NODES_MAX);
		if (!root[0])
			return;
		got = facts_virtual(root, virt_rows[i].kernel);
		CHECKF(got == virt_rows[i].want, "%s: got %d, want %d", virt_rows[i].name,
		    got, virt_rows[i].want);
		remove_root(root);
	}
}

/* facts_collect on this machine agrees with `systemd-detect-virt --vm`. */
static void
t_virtual_matches_systemd(void)
{
	const char *tool = "/usr/bin/systemd-detect-virt";
	struct facts f;
	char out[64] = "";
	FILE *p;
	int vm;

	if (access(tool, X_OK) != 0) {
		CHECKF(0, "%s is missing: install systemd (build.sh does) to compare with it", tool);
		return;
	}
	p = popen("/usr/bin/systemd-detect-virt --vm 2>/dev/null", "r");
	CHECKF(p != NULL, "popen failed");
	if (p == NULL)
		return;
	if (fgets(out, sizeof out, p) == NULL)
		out[0] = '\0';
	pclose(p);
	out[strcspn(out, "\n")] = '\0';
	CHECKF(out[0] != '\0', "systemd-detect-virt --vm printed nothing");
	vm = strcmp(out, "none") != 0;
	facts_collect(&f);
	CHECKF(f.is_virtual == vm, "systemd-detect-virt --vm says \"%s\", facts_collect says %d",
	    out, f.is_virtual);
}

static void
t_collect(void)
{
	struct facts f;
	struct facts_os os;
	struct utsname u;
	char arch[FACTS_TEXT_MAX];

	facts_collect(&f);
	CHECK(uname(&u) == 0);
	facts_arch(u.machine, arch, sizeof arch);
	CHECK_STR(f.arch, arch, "arch");
	facts_os_read(&os, "/");
	CHECK_STR(f.os.distro, os.distro, "distro");
	CHECK_STR(f.os.release, os.release, "release");
	CHECK_STR(f.os.codename, os.codename, "codename");
	CHECK(f.is_virtual == 0 || f.is_virtual == 1);
	if (facts_virtual_cpuid())
		CHECK(f.is_virtual == 1);
}

static const struct check_case cases[] = {
	{ "arch", t_arch },
	{ "arch_bounded", t_arch_bounded },
	{ "os_rows", t_os_rows },
	{ "os_root_forms", t_os_root_forms },
	{ "os_many_files", t_os_many_files },
	{ "os_unreadable", t_os_unreadable },
	{ "os_utf8_truncation", t_os_utf8_truncation },
	{ "os_long_lines", t_os_long_lines },
	{ "os_this_machine", t_os_this_machine },
	{ "virtual_rows", t_virtual_rows },
	{ "virtual_matches_systemd", t_virtual_matches_systemd },
	{ "collect", t_collect },
};

CHECK_MAIN(cases)
