/*
 * facts: the system facts of the message, computed as Butler 5.1 (Node's os.arch()
 * and systeminformation 5.5.0's osInfo) computes them on Linux.
 *
 * Every reader takes a `root` directory ("/" on a real run; a test's own tree in
 * unit tests) so the code path tests exercise is the one `show` uses. A missing
 * file means "absent", never an error.
 */
#ifndef ANONTEL_FACTS_H
#define ANONTEL_FACTS_H

#include <stddef.h>

#define FACTS_TEXT_MAX 128

struct facts_os {
	char distro[FACTS_TEXT_MAX];    /* DISTRIB_ID, else NAME, else "unknown" */
	char release[FACTS_TEXT_MAX];   /* VERSION before "(", DISTRIB_RELEASE, VERSION_ID, "unknown" */
	char codename[FACTS_TEXT_MAX];  /* inside VERSION's "(...)", DISTRIB_CODENAME, VERSION_CODENAME, "" */
};

struct facts {
	char arch[FACTS_TEXT_MAX];      /* Node's os.arch() name, e.g. "x64" */
	struct facts_os os;
	int is_virtual;                 /* 1 when a hypervisor was detected */
	const char *virtual_why;        /* static text naming the evidence, or NULL */
};

/* Maps uname's machine to Node's os.arch() name ("x86_64" -> "x64", "aarch64" ->
 * "arm64", ...); unknown names are copied as the kernel says. */
void facts_arch(const char *machine, char *out, size_t outlen);

/*
 * Reads root/etc/[*]-release (in name order), then root/usr/lib/os-release, then
 * root/etc/openwrt_release; later keys win. Values are unquoted as os-release(5)
 * says. Fills *os by the rules above. Never fails: with no file, the result is
 * "unknown", "unknown", "".
 */
void facts_os_read(struct facts_os *os, const char *root);

/*
 * Detects a virtual machine the way `systemd-detect-virt --vm` would answer
 * "none" or not: CPUID hypervisor bit / vendor leaf (x86), DMI sys_vendor and
 * product_name, root/sys/hypervisor/type, root/proc/device-tree/hypervisor, and a
 * kernel release containing "microsoft" (WSL). A container is not a VM.
 * Returns 1 or 0; *why (if not NULL) names the evidence.
 */
int facts_virtual(const char *root, const char *kernel_release, const char **why);

/* Collects everything for the running system (root "/"). */
void facts_collect(struct facts *f);

#endif
