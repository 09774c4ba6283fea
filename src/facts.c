/*
 * facts: arch, os-release facts and VM detection (see facts.h for the contract).
 *
 * Reading is bounded everywhere: one 8 KiB buffer per release file, small buffers
 * for one-line sysfs/proc files, no heap. Files are opened O_NONBLOCK and must be
 * regular files, so a FIFO named like a release file cannot hang the run.
 */
#include "facts.h"

#include "ascii.h"
#include "buf.h"
#include "file.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/utsname.h>
#include <unistd.h>
#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#endif

#define FILE_MAX  8192  /* bytes read from one release file */
#define ONE_LINE  256   /* bytes read from a one-line sysfs/proc file */
#define VAL_MAX   512   /* a kept os-release value, NUL included */
#define NAMES_MAX 32    /* release files taken from root/etc */
#define NAME_LEN  256   /* NAME_MAX + 1 */
#define PATH_LEN  1024

/* ---- small helpers ------------------------------------------------------- */

/* Where the word w first occurs in s, or NULL: strstr, plainly, for the few short
 * words sought here (musl's two-way strstr is 1.2 KB of code for them). */
static const char *
find(const char *s, const char *w)
{
	size_t n = strlen(w);

	for (; *s != '\0'; s++)
		if (strncmp(s, w, n) == 0)
			return s;
	return NULL;
}

/* The length of s up to its first byte in the set stop (or its end). */
static size_t
span_to(const char *s, const char *stop)
{
	size_t n = 0;

	while (s[n] != '\0' && strchr(stop, s[n]) == NULL)
		n++;
	return n;
}

/* out = root + rel (+ name); rel starts with "/". -1 when it does not fit. */
static int
join(char *out, size_t cap, const char *root, const char *rel, const char *name)
{
	size_t r = strlen(root), n = strlen(rel), m = name ? strlen(name) : 0;

	while (r > 0 && root[r - 1] == '/')
		r--;
	if (r + n + m + 1 > cap)
		return -1;
	memcpy(out, root, r);
	memcpy(out + r, rel, n);
	if (m)
		memcpy(out + r + n, name, m);
	out[r + n + m] = '\0';
	return 0;
}

/*
 * Reads at most cap-1 bytes of the regular file root+rel(+name) (file.h) into p
 * and NUL-terminates them. Returns the count, or -1 when the file is absent, not a
 * regular file or unreadable.
 */
static long
read_at(const char *root, const char *rel, const char *name, char *p, size_t cap)
{
	char path[PATH_LEN];
	size_t n;
	int r;

	if (join(path, sizeof path, root, rel, name) != 0)
		return -1;
	r = file_read(AT_FDCWD, path, 0, p, cap - 1, &n);
	if (r != FILE_OK && r != FILE_TOO_BIG)
		return -1;
	p[n] = '\0';
	return (long)n;
}

/*
 * Reads the first line of root+rel(+name) into line[cap] (NUL-terminated; the line ends at
 * "\n", "\r" or NUL, as systemd's read_one_line_file). -1 when absent.
 */
static int
first_line(const char *root, const char *rel, const char *name, char *line, size_t cap)
{
	if (read_at(root, rel, name, line, cap) < 0)
		return -1;
	line[span_to(line, "\r\n")] = '\0';
	return 0;
}

/* The line after the one at p in a NUL-terminated text, or NULL after the last. */
static const char *
next_line(const char *p)
{
	p = strchr(p, '\n');
	return p != NULL && p[1] != '\0' ? p + 1 : NULL;
}

/* Whether root+rel(+name) exists. */
static int
exists(const char *root, const char *rel, const char *name)
{
	char path[PATH_LEN];

	return join(path, sizeof path, root, rel, name) == 0 && access(path, F_OK) == 0;
}

static int
starts(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/*
 * Moves a cut position back so that s[cut], the first byte dropped, does not
 * continue a UTF-8 sequence (at most 3 steps: a character has at most 4 bytes).
 */
static size_t
utf8_floor(const char *s, size_t cut)
{
	for (int k = 0; k < 3 && cut > 0 && ((unsigned char)s[cut] & 0xC0) == 0x80; k++)
		cut--;
	return cut;
}

/* Copies p[n] into out[FACTS_TEXT_MAX], cut at a character boundary. */
static void
put_text(char *out, const char *p, size_t n)
{
	if (n > FACTS_TEXT_MAX - 1)
		n = utf8_floor(p, FACTS_TEXT_MAX - 1);
	memcpy(out, p, n);
	out[n] = '\0';
}

/* ---- arch ----------------------------------------------------------------- */

void
facts_arch(const char *machine, char *out, size_t outlen)
{
	static const struct {
		const char *machine, *node;
	} map[] = {
		{ "x86_64", "x64" },     { "aarch64", "arm64" },     { "arm64", "arm64" },
		{ "ppc64le", "ppc64" },  { "loongarch64", "loong64" },
#if defined(__mips__) && defined(__MIPSEL__)
		/* uname says "mips" on either endianness; Node names the build's. */
		{ "mips", "mipsel" },    { "mips64", "mips64el" },
#endif
	};
	const char *name = machine;
	size_t i = 0;

	while (i < sizeof map / sizeof map[0] && strcmp(machine, map[i].machine) != 0)
		i++;
	if (i < sizeof map / sizeof map[0])
		name = map[i].node;
	else if (machine[0] == 'i' && machine[1] >= '3' && machine[1] <= '6' &&
	    strcmp(machine + 2, "86") == 0)
		name = "ia32";          /* i386, i486, i586, i686 */
	else if (strncmp(machine, "arm", 3) == 0)
		name = "arm";   /* armv5tel, armv6l, armv7l, armv8l (32-bit userland on arm64), ... */
	buf_join(out, outlen, name, NULL, NULL);
}

/* ---- os-release ------------------------------------------------------------ */

enum {
	K_DISTRIB_ID, K_NAME, K_DISTRIB_RELEASE, K_VERSION_ID,
	K_DISTRIB_CODENAME, K_VERSION_CODENAME, K_VERSION, K_COUNT
};

static const char *const keys[K_COUNT] = {
	"DISTRIB_ID", "NAME", "DISTRIB_RELEASE", "VERSION_ID",
	"DISTRIB_CODENAME", "VERSION_CODENAME", "VERSION",
};

struct val {
	char s[VAL_MAX];
	size_t len;
	int full;
};

static void
val_clear(struct val *v)
{
	v->len = 0;
	v->full = 0;
	v->s[0] = '\0';
}

static void
val_put(struct val *v, char c)
{
	if (v->full)
		return;
	if (v->len + 1 < sizeof v->s) {
		v->s[v->len++] = c;
		v->s[v->len] = '\0';
		return;
	}
	/* The NUL slot briefly holds the first dropped byte to find the boundary. */
	v->full = 1;
	v->s[v->len] = c;
	v->len = utf8_floor(v->s, v->len);
	v->s[v->len] = '\0';
}

/*
 * Length of the whitespace character starting at p (what JavaScript's trim()
 * removes: ASCII spaces and line ends, NBSP, BOM, U+1680, U+2000-200A, U+2028/9,
 * U+202F, U+205F, U+3000), or 0.
 */
static size_t
js_space(const unsigned char *p, size_t n)
{
	if (n >= 1 && (p[0] == ' ' || (p[0] >= 0x09 && p[0] <= 0x0d)))
		return 1;
	if (n >= 2 && p[0] == 0xC2 && p[1] == 0xA0)
		return 2;
	if (n < 3)
		return 0;
	if ((p[0] == 0xEF && p[1] == 0xBB && p[2] == 0xBF) ||
	    (p[0] == 0xE1 && p[1] == 0x9A && p[2] == 0x80) ||
	    (p[0] == 0xE2 && p[1] == 0x80 &&
	     ((p[2] >= 0x80 && p[2] <= 0x8A) || p[2] == 0xA8 || p[2] == 0xA9 || p[2] == 0xAF)) ||
	    (p[0] == 0xE2 && p[1] == 0x81 && p[2] == 0x9F) ||
	    (p[0] == 0xE3 && p[1] == 0x80 && p[2] == 0x80))
		return 3;
	return 0;
}

/* Trims *a..*b (b exclusive) as JavaScript's trim(). */
static void
trim(const char *p, size_t *a, size_t *b)
{
	const unsigned char *u = (const unsigned char *)p;
	size_t k;

	while (*a < *b && (k = js_space(u + *a, *b - *a)) > 0)
		*a += k;
	for (;;) {
		for (k = 1; k <= 3 && k <= *b - *a; k++)
			if (js_space(u + *b - k, k) == k)
				break;
		if (k > 3 || k > *b - *a)
			return;
		*b -= k;
	}
}

/* Stores p[n] unquoted as os-release(5) (a shell-like assignment) says. */
static void
unquote(struct val *v, const char *p, size_t n)
{
	char quote = n > 0 && (p[0] == '"' || p[0] == '\'') ? p[0] : '\0';

	val_clear(v);
	/* An unterminated quote keeps the rest of the line (systeminformation keeps it
	 * too, minus the quote). */
	for (size_t i = quote != '\0'; i < n && (quote == '\0' || p[i] != quote); i++) {
		if (quote == '"' && p[i] == '\\' && i + 1 < n && p[i + 1] != '\0' &&
		    strchr("\"\\`$", p[i + 1]) != NULL)
			i++;
		val_put(v, p[i]);
	}
}

static void
parse_line(struct val vals[K_COUNT], const char *p, size_t n)
{
	const char *eq;
	size_t ka = 0, kb, va, vb;

	/* A "#" comment needs no test of its own: its key ("# NAME") is never one of
	 * ours, so it is skipped, as systeminformation skips it. */
	eq = memchr(p, '=', n);
	if (eq == NULL)
		return;
	kb = (size_t)(eq - p);
	trim(p, &ka, &kb);
	/* Our keys are upper-case letters and "_": the ASCII upper-cased key is one
	 * of them when it matches one without regard to ASCII case. */
	for (int k = 0; k < K_COUNT; k++) {
		if (strlen(keys[k]) != kb - ka || strncasecmp(p + ka, keys[k], kb - ka) != 0)
			continue;
		va = (size_t)(eq - p) + 1;
		vb = n;
		trim(p, &va, &vb);
		unquote(&vals[k], p + va, vb - va);
		return;
	}
}

/* Parses the release file root+rel+name into vals (a later value of a key wins).
 * *id is the file's identity; a file whose identity *id already holds was the last
 * one parsed, and parsing it again would change nothing: it is not read again. */
static void
parse_file(struct val vals[K_COUNT], const char *root, const char *rel, const char *name,
    char *buf, struct stat *id)
{
	char path[PATH_LEN];
	struct stat st;
	size_t n, start = 0, i;
	int r;

	if (join(path, sizeof path, root, rel, name) != 0)
		return;
	if (id->st_ino != 0) {
		if (fstatat(AT_FDCWD, path, &st, 0) != 0)
			return;   /* not there (or unreadable): nothing to parse */
		if (st.st_dev == id->st_dev && st.st_ino == id->st_ino)
			return;
	}
	id->st_ino = 0;
	r = file_read_stat(AT_FDCWD, path, 0, buf, FILE_MAX, &n, &st);
	if (r != FILE_OK && r != FILE_TOO_BIG)
		return;
	*id = st;
	for (i = 0; i < n; i++)
		if (buf[i] == '\n') {
			parse_line(vals, buf + start, i - start);
			start = i + 1;
		}
	/* A last line without "\n" counts only when the file really ends there. */
	if (start < n && r == FILE_OK)
		parse_line(vals, buf + start, n - start);
}

struct release_names {
	char (*names)[NAME_LEN];
	size_t count;
};

/* Keeps name when it matches the glob "*-release", among the NAMES_MAX smallest
 * (strcmp). */
static void
release_name(void *ctx, const char *name, unsigned char type)
{
	static const char suffix[] = "-release";
	struct release_names *r = ctx;
	size_t len = strlen(name), at;

	(void)type;
	if (name[0] == '.' || len < sizeof suffix - 1 || len >= NAME_LEN ||
	    strcmp(name + len - (sizeof suffix - 1), suffix) != 0)
		return;
	at = r->count;
	while (at > 0 && strcmp(name, r->names[at - 1]) < 0)
		at--;
	if (at == NAMES_MAX)
		return;
	if (r->count == NAMES_MAX)
		r->count--;
	memmove(r->names[at + 1], r->names[at], (r->count - at) * NAME_LEN);
	memcpy(r->names[at], name, len + 1);
	r->count++;
}

/* Calls fn for each entry of the directory root+rel; -1 when it cannot be listed. */
static int
list_dir(const char *root, const char *rel, void (*fn)(void *, const char *, unsigned char),
    void *ctx)
{
	char path[PATH_LEN];
	int fd, r;

	if (join(path, sizeof path, root, rel, NULL) != 0 ||
	    (fd = openat(AT_FDCWD, path, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
		return -1;
	r = file_each_entry(fd, fn, ctx);
	close(fd);
	return r;
}

/* The NAMES_MAX smallest (strcmp) names in root/etc matching "*-release". */
static size_t
release_names(const char *root, char names[NAMES_MAX][NAME_LEN])
{
	struct release_names r = { names, 0 };

	(void)list_dir(root, "/etc", release_name, &r);
	return r.count;
}

/* Copies the first non-empty of a and b (JavaScript's a || b), else dflt, into
 * out[FACTS_TEXT_MAX]. */
static void
put_first(char *out, const struct val *a, const struct val *b, const char *dflt)
{
	const struct val *v = a->len ? a : b;

	if (v->len)
		put_text(out, v->s, v->len);
	else
		put_text(out, dflt, strlen(dflt));
}

void
facts_os_read(struct facts_os *os, const char *root)
{
	struct val vals[K_COUNT];
	struct stat last;
	char names[NAMES_MAX][NAME_LEN];
	char buf[FILE_MAX];
	size_t count, a, b;
	char *ver = vals[K_VERSION].s, *lp;

	memset(vals, 0, sizeof vals);
	count = release_names(root, names);
	/* As systeminformation: every /etc/NAME-release, then /usr/lib/os-release (on
	 * most systems the file /etc/os-release links to: read once) and OpenWrt's. */
	memset(&last, 0, sizeof last);
	for (size_t i = 0; i < count; i++)
		parse_file(vals, root, "/etc/", names[i], buf, &last);
	parse_file(vals, root, "/usr/lib/os-release", NULL, buf, &last);
	parse_file(vals, root, "/etc/openwrt_release", NULL, buf, &last);

	put_first(os->distro, &vals[K_DISTRIB_ID], &vals[K_NAME], "unknown");

	/* systeminformation: version = VERSION.split('(')[0].trim(); codename =
	 * VERSION.split('(')[1] without ')' characters, trimmed. VERSION is not needed
	 * after this: the codename's characters are moved down in place. */
	lp = memchr(ver, '(', vals[K_VERSION].len);
	if (lp != NULL) {
		char *end = memchr(lp + 1, '(', vals[K_VERSION].len - (size_t)(lp + 1 - ver));
		char *to = lp + 1;

		if (end == NULL)
			end = ver + vals[K_VERSION].len;
		for (const char *c = lp + 1; c < end; c++)
			if (*c != ')')
				*to++ = *c;
		a = (size_t)(lp + 1 - ver);
		b = (size_t)(to - ver);
		trim(ver, &a, &b);
		put_text(os->codename, ver + a, b - a);
		a = 0;
		b = (size_t)(lp - ver);
		trim(ver, &a, &b);
	} else {
		put_first(os->codename, &vals[K_DISTRIB_CODENAME], &vals[K_VERSION_CODENAME], "");
		a = 0;
		b = vals[K_VERSION].len;
	}
	if (b > a)
		put_text(os->release, ver + a, b - a);
	else
		put_first(os->release, &vals[K_DISTRIB_RELEASE], &vals[K_VERSION_ID], "unknown");
}
/* ---- virtual machine ------------------------------------------------------- */

/* What DMI says. DMI_FIRST: a VM that systemd trusts before CPUID. */
enum { DMI_NONE, DMI_VM, DMI_FIRST };

/* Whether s starts with one of the n words of list. */
static int
starts_any(const char *s, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (starts(s, list[i]))
			return 1;
	return 0;
}

/*
 * systemd's detect_vm_smbios: SMBIOS type 0, BIOS characteristics extension byte 2
 * (offset 0x13), bit 4 = "virtual machine". -1 unknown (absent, unreadable without
 * root, too short), 0 clear, 1 set.
 */
static int
smbios_vm_bit(const char *root)
{
	char raw[64 + 1];
	long n = read_at(root, "/sys/firmware/dmi/entries/0-0/raw", NULL, raw, sizeof raw);

	if (n < 20 || (unsigned char)raw[1] < 20)
		return -1;
	return ((unsigned char)raw[19] & 0x10) != 0;
}

/* systemd's detect_vm_dmi (dmi_vendor_table of src/basic/virt.c, main branch). */
static int
dmi_detect(const char *root)
{
	static const char *const files[] = {
		"/product_name",  /* before sys_vendor: KVM over QEMU */
		"/sys_vendor",
		"/board_vendor",
		"/bios_vendor",
		"/product_version",  /* Hyper-V */
	};
	/* systemd's dmi_vendor_table by what a match means (Amazon EC2 aside: see
	 * below). No vendor starts with one of another kind, so the table's order
	 * does not matter within a line. */
	static const char *const vm[] = {
		"KVM", "OpenStack", "KubeVirt", "QEMU", "VMware", "VMW", "Bochs", "BHYVE",
		"Hyper-V", "Apple Virtualization",
	};
	static const char *const first[] = {
		"innotek GmbH", "VirtualBox", "Oracle Corporation", "Xen", "Parallels",
		"Google Compute Engine",
	};
	enum { PRODUCT, VENDOR, NFILES = sizeof files / sizeof files[0] };
	/* Each file's first line, "" when unreadable: the checks after the table
	 * read product_name and sys_vendor again. */
	char line[NFILES][ONE_LINE];
	const char *metal;
	int bit;

	for (size_t f = 0; f < NFILES; f++) {
		if (first_line(root, "/sys/class/dmi/id", files[f], line[f], sizeof line[f]) != 0) {
			line[f][0] = '\0';
			continue;
		}
		if (starts_any(line[f], first, sizeof first / sizeof first[0]))
			return DMI_FIRST;
		if (starts_any(line[f], vm, sizeof vm / sizeof vm[0]))
			return DMI_VM;
		if (!starts(line[f], "Amazon EC2"))
			continue;
		/*
		 * Amazon EC2 names VMs and bare-metal instances alike. As systemd's main
		 * branch does: the SMBIOS VM bit decides; without it (it needs root), a
		 * product_name with ".metal" followed by end or "-" is bare metal; an
		 * unreadable product_name counts as a VM.
		 */
		bit = smbios_vm_bit(root);
		if (bit >= 0)
			return bit ? DMI_FIRST : DMI_NONE;
		if (line[PRODUCT][0] == '\0')
			return DMI_FIRST;
		metal = find(line[PRODUCT], ".metal");
		if (metal && (metal[6] == '\0' || metal[6] == '-'))
			return DMI_NONE;
		return DMI_FIRST;
	}
	/* Not in systemd's table (Surface laptops also say "Microsoft Corporation"),
	 * but the pair is Hyper-V's DMI; systemd finds Hyper-V by CPUID instead. */
	if (starts(line[VENDOR], "Microsoft Corporation") &&
	    starts(line[PRODUCT], "Virtual Machine"))
		return DMI_VM;
	return smbios_vm_bit(root) == 1 ? DMI_VM : DMI_NONE;
}

/* systemd's detect_vm_uml: the first "vendor_id\t: " line of /proc/cpuinfo. */
static int
uml(const char *root)
{
	char buf[1024];

	if (read_at(root, "/proc/cpuinfo", NULL, buf, sizeof buf) < 0)
		return 0;
	for (const char *p = buf; p != NULL; p = next_line(p))
		if (starts(p, "vendor_id\t: "))
			return starts(p + 12, "User Mode Linux");
	return 0;
}

/* systemd's detect_vm_xen_dom0: features bit XENFEAT_dom0 (11), else "control_d"
 * among the comma-separated /proc/xen/capabilities. */
static int
xen_dom0(const char *root)
{
	char line[ONE_LINE];
	const char *p;

	if (first_line(root, "/sys/hypervisor", "/properties/features", line, sizeof line) == 0) {
		unsigned long features = 0;
		int digits = 0;

		p = line;
		while (*p == ' ' || (*p >= '\t' && *p <= '\r'))
			p++;
		if (p[0] == '0' && (p[1] == 'x' || p[1] == 'X'))
			p += 2;
		for (int d; (d = ascii_hex_val((unsigned char)*p)) >= 0; p++, digits++)
			features = features << 4 | (unsigned)d;
		if (digits > 0)
			return (features >> 11) & 1;
	}
	if (first_line(root, "/proc/xen", "/capabilities", line, sizeof line) != 0)
		return 0;
	/* "control_d" as a whole item of the list */
	for (p = line; (p = find(p, "control_d")) != NULL; p++)
		if ((p == line || p[-1] == ',') && (p[9] == '\0' || p[9] == ','))
			return 1;
	return 0;
}

/* Sets *(int *)ctx when name holds "fw-cfg". */
static void
fw_cfg_entry(void *ctx, const char *name, unsigned char type)
{
	(void)type;
	if (find(name, "fw-cfg") != NULL)
		*(int *)ctx = 1;
}

/* systemd's detect_vm_device_tree (systemd looks only on arm, ppc, riscv; the
 * files exist nowhere else, so we look everywhere and tests run on any host). */
static int
device_tree(const char *root)
{
	static const char dt[] = "/proc/device-tree";
	char line[ONE_LINE];
	int fw_cfg = 0;

	/* systemd reads hypervisor/compatible; the node without it counts here too. */
	if (exists(root, dt, "/hypervisor"))
		return 1;
	if (exists(root, dt, "/ibm,partition-name") &&       /* PowerVM */
	    exists(root, dt, "/hmc-managed?") &&
	    !exists(root, dt, "/chosen/qemu,graphic-width"))
		return 1;
	if (list_dir(root, dt, fw_cfg_entry, &fw_cfg) != 0)
		return 0;
	return fw_cfg ||        /* QEMU */
	    (first_line(root, dt, "/compatible", line, sizeof line) == 0 &&
	    strcmp(line, "qemu,pseries") == 0);
}

/* systemd's detect_vm_zvm (s390 only there; the file exists nowhere else). */
static int
zvm(const char *root)
{
	static const char field[] = "VM00 Control Program";
	char buf[FILE_MAX];

	if (read_at(root, "/proc/sysinfo", NULL, buf, sizeof buf) < 0)
		return 0;
	for (const char *p = buf; p != NULL; p = next_line(p)) {
		const char *e = p + sizeof field - 1;

		if (!starts(p, field))
			continue;
		while (ascii_is_blank(*e))
			e++;
		if (*e == ':')
			return 1;
	}
	return 0;
}

int
facts_virtual(const char *root, const char *kernel_release)
{
	char line[ONE_LINE];
	int dmi = dmi_detect(root);

	/* systemd's order; CPUID (checked by the caller before this) sits between
	 * the Xen check and the rest, which only matters for a Xen dom0. */
	if (dmi == DMI_FIRST || uml(root))
		return 1;
	/* A dom0 is the host: only CPUID (a nested hypervisor) would count. */
	if (exists(root, "/proc/xen", NULL))
		return !xen_dom0(root);
	/* SPEC rule, beyond systemd (which calls WSL a container) at the end: WSL 2
	 * also shows Hyper-V in CPUID; WSL 1 ("-Microsoft") counts as virtual here. */
	return dmi == DMI_VM ||
	    first_line(root, "/sys/hypervisor", "/type", line, sizeof line) == 0 ||
	    device_tree(root) || zvm(root) ||
	    (kernel_release != NULL && (find(kernel_release, "microsoft") != NULL ||
	    find(kernel_release, "Microsoft") != NULL));
}

int
facts_virtual_cpuid(void)
{
#if defined(__x86_64__) || defined(__i386__)
	unsigned a, b, c, d;

	return __get_cpuid(1, &a, &b, &c, &d) && (c & 0x80000000u);
#else
	return 0;
#endif
}

/* ---- everything ------------------------------------------------------------ */

void
facts_collect(struct facts *f)
{
	struct utsname u;

	if (uname(&u) != 0)
		memset(&u, 0, sizeof u);
	facts_arch(u.machine, f->arch, sizeof f->arch);
	facts_os_read(&f->os, "/");
	f->is_virtual = facts_virtual_cpuid() || facts_virtual("/", u.release);
}
