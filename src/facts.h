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
};

/* Maps uname's machine to Node's os.arch() name: x86_64 -> x64, aarch64/arm64 ->
 * arm64, other arm* (armv6l, armv7l, armv8l, ...) -> arm, i386..i686 -> ia32,
 * ppc64le -> ppc64, loongarch64 -> loong64; "mips"/"mips64" become "mipsel"/
 * "mips64el" when this binary is built for little-endian MIPS (the kernel names
 * both endiannesses alike); anything else is copied as the kernel says. The
 * result is cut to outlen-1 bytes and NUL-terminated (nothing when outlen is 0). */
void facts_arch(const char *machine, char *out, size_t outlen);

/*
 * Reads root/etc/[*]-release (the names `cat /etc/[*]-release` lists: not starting
 * with ".", in strcmp order, at most the first 32), then root/usr/lib/os-release,
 * then root/etc/openwrt_release; later keys win (an empty later value too). Each
 * line with "=" (not a "#" comment): KEY = the text before the first "=", trimmed
 * (as JavaScript's trim()), ASCII upper-cased; value = the text after it, trimmed,
 * then unquoted as os-release(5) says ("..." with \" \\ \` \$ escapes, or '...';
 * an unquoted value is kept as is). CRLF line ends are fine.
 * Then: distro = DISTRIB_ID || NAME || "unknown"; when VERSION holds "(",
 * codename = the text between the first "(" and the next "(" with ")" removed,
 * trimmed, and version = the text before the first "(", trimmed (systeminformation's
 * split('(')); else version = VERSION and codename = DISTRIB_CODENAME ||
 * VERSION_CODENAME || ""; release = version || DISTRIB_RELEASE || VERSION_ID ||
 * "unknown" (empty counts as unset, as JavaScript's ||).
 *
 * Bounds: only the first 8 KiB of each file are read, and a line cut by that bound
 * is ignored; a missing file, a directory, a FIFO or device, a dangling link or an
 * unreadable file is absent. A value is kept up to 511 bytes and each result up to
 * FACTS_TEXT_MAX-1 bytes, both cut at a UTF-8 character boundary (never inside a
 * multi-byte sequence). Other bytes are kept as they are (the emitter escapes them).
 * Never fails: with no file, the result is "unknown", "unknown", "".
 */
void facts_os_read(struct facts_os *os, const char *root);

/*
 * The file half of `systemd-detect-virt --vm` (systemd's src/basic/virt.c detect_vm):
 * 1 when, under root, any of: DMI (root/sys/class/dmi/id/product_name, sys_vendor,
 * board_vendor, bios_vendor, product_version) starts with a vendor of systemd's
 * dmi_vendor_table (QEMU, KVM, VMware, VirtualBox/innotek GmbH, Xen, Bochs, BHYVE,
 * Parallels, Hyper-V, Amazon EC2, Google Compute Engine, ...), or sys_vendor
 * "Microsoft Corporation" with product_name "Virtual Machine" (Hyper-V);
 * SMBIOS's "virtual machine" bit (root/sys/firmware/dmi/entries/0-0/raw); User Mode
 * Linux in root/proc/cpuinfo; root/proc/xen (a Xen domU; a dom0 is not a VM);
 * root/sys/hypervisor/type; root/proc/device-tree/hypervisor (or QEMU's fw-cfg node,
 * PowerVM, "qemu,pseries"); z/VM or KVM in root/proc/sysinfo; or kernel_release
 * (may be NULL) containing "microsoft"/"Microsoft" (WSL; SPEC rule, systemd calls WSL
 * a container). DMI "Amazon EC2" on a bare-metal instance (SMBIOS VM bit clear, or
 * product_name with ".metal") is not a VM, as in current systemd.
 * Files only: no CPUID here, so a test's fake root does not see the real CPU.
 * Returns 1 or 0 (which evidence it was is not kept: nothing shows it).
 */
int facts_virtual(const char *root, const char *kernel_release);

/*
 * The CPUID half (x86 only; 0 elsewhere): 1 when CPUID leaf 1 ECX bit 31
 * (hypervisor present) is set, whatever the hypervisor. Reads the real CPU, so it
 * belongs to the running system (root "/") only.
 */
int facts_virtual_cpuid(void);

/* Collects everything for the running system (root "/"): arch from uname's machine,
 * os from facts_os_read(root "/"), virtual from facts_virtual_cpuid, then
 * facts_virtual("/", uname's release). */
void facts_collect(struct facts *f);

#endif
