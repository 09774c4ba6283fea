/*
 * sandbox: no_new_privs + a seccomp-bpf allow-list per verb class. See sandbox.h.
 *
 * Why it is written this way:
 * - musl-gcc does not search /usr/include, and musl ships no linux/ headers: the few
 *   kernel constants and structs used here (BPF opcodes, seccomp return values,
 *   struct seccomp_data offsets, AUDIT_ARCH_*) are defined below. They are stable
 *   kernel ABI (include/uapi/linux/{filter,bpf_common,seccomp,audit,elf-em}.h).
 *   System call numbers come from the libc's <sys/syscall.h> for the target, so
 *   the table is written once for every architecture; legacy calls that only
 *   some architectures have (open, stat, access, mkdir, poll, renameat on
 *   x86_64) are listed under #ifdef.
 * - The program is generated from the table at run time into a static array: one
 *   "JEQ nr" per rule, then that rule's argument checks; first match decides.
 *   The table is most of the module, so it is kept small: four bytes a rule, which
 *   names its first argument check in a table of the few there are, chained.
 * - It starts with a load of the data's length, which nothing uses. Why: since
 *   Linux 5.11 the kernel runs a new filter once per system call number (about
 *   450) to cache the calls it always allows, at about 8 ns per instruction run:
 *   0.13 ms for NET's program, more than the rest of a `check`. That emulation
 *   gives up at the first instruction it does not model, and BPF_LEN is one, so
 *   the filter loads in a third of the time; each call then runs the JITed filter
 *   instead of a cache lookup (tens of ns, for about 80 calls).
 *   Argument checks read the low 32 bits of an argument (both supported
 *   architectures are little-endian); every argument checked here is an int or
 *   is truncated to 32 bits by the kernel (open flags, socket family/type, ioctl
 *   request, clone flags via lower_32_bits, mmap prot whose unknown high bits
 *   the kernel refuses).
 * - Violations use SECCOMP_RET_KILL_PROCESS (the process has one thread, so
 *   KILL_THREAD would do the same; PROCESS says what is meant). Kernels before
 *   4.14 treat the unknown value as SECCOMP_RET_KILL (the thread) — their
 *   default for any unknown action — so no probing or second filter is needed.
 * - A socket family other than AF_INET/AF_INET6 in NET and PROBE fails with
 *   EAFNOSUPPORT instead of killing: a failed socket() is an error the code
 *   reports, not a sign of a compromise.
 * - The host (glibc) build, which the unit tests use, gets a few extra calls
 *   under __GLIBC__ that glibc and the sanitizers' runtime make (set_robust_list
 *   in a forked child, sigaltstack, madvise, ...). The static musl binary never
 *   has them in its list.
 * - valgrind does not model seccomp filters: under valgrind the filter would
 *   judge valgrind's own calls. Do not run the binary under valgrind with it on.
 */
#include "sandbox.h"

#include "buf.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

/* ---- kernel ABI (see the comment at the top) ------------------------------ */

/* BPF (linux/bpf_common.h, linux/filter.h) */
#define BPF_LD_W_ABS  0x20   /* BPF_LD | BPF_W | BPF_ABS */
#define BPF_LD_W_LEN  0x80   /* BPF_LD | BPF_W | BPF_LEN */
#define BPF_ALU_AND_K 0x54   /* BPF_ALU | BPF_AND | BPF_K */
#define BPF_JEQ_K     0x15   /* BPF_JMP | BPF_JEQ | BPF_K */
#define BPF_JSET_K    0x45   /* BPF_JMP | BPF_JSET | BPF_K */
#define BPF_RET_K     0x06   /* BPF_RET | BPF_K */

struct sbx_insn {            /* struct sock_filter */
	uint16_t code;
	uint8_t jt;
	uint8_t jf;
	uint32_t k;
};

struct sbx_prog {            /* struct sock_fprog */
	unsigned short len;
	struct sbx_insn *filter;
};

/* struct seccomp_data: int nr; __u32 arch; __u64 instruction_pointer; __u64 args[6]; */
#define DATA_NR      0
#define DATA_ARCH    4
#define DATA_ARG(i)  (16 + 8 * (i))   /* low 32 bits on little-endian */

/* linux/seccomp.h */
#define SECCOMP_MODE_FILTER_     2
#define RET_KILL_PROCESS         0x80000000u
#define RET_ERRNO(e)             (0x00050000u | ((uint32_t)(e) & 0xffffu))
#define RET_ALLOW                0x7fff0000u

/* linux/prctl.h (musl's <sys/prctl.h> has them; defined here for older ones) */
#ifndef PR_SET_NO_NEW_PRIVS
#define PR_SET_NO_NEW_PRIVS 38
#endif
#ifndef PR_SET_SECCOMP
#define PR_SET_SECCOMP 22
#endif

/* linux/audit.h: EM_* | __AUDIT_ARCH_64BIT | __AUDIT_ARCH_LE */
#if defined(__x86_64__) && !defined(__ILP32__)
#define SBX_ARCH 0xc000003eu          /* AUDIT_ARCH_X86_64 (EM_X86_64 = 62) */
#define SBX_X32_BIT 0x40000000u       /* __X32_SYSCALL_BIT: x32 calls share the arch */
#elif defined(__aarch64__) && defined(__AARCH64EL__) && !defined(__ILP32__)
#define SBX_ARCH 0xc00000b7u          /* AUDIT_ARCH_AARCH64 (EM_AARCH64 = 183) */
#endif

/* Flags whose numeric values are kernel ABI and the same on both architectures
 * (asm-generic/fcntl.h, linux/sched.h, linux/net.h). */
#define KERNEL_O_TMPFILE  020000000u  /* __O_TMPFILE, without O_DIRECTORY */
#define KERNEL_CLONE_THREAD 0x00010000u
#define KERNEL_CLONE_VM     0x00000100u
#define KERNEL_CSIGNAL      0x000000ffu   /* the exit signal in clone's flags */
#define KERNEL_SOCK_TYPE_MASK 0xfu

/* Anything that opens for writing, creates or truncates. */
#define OPEN_WRITE_FLAGS ((uint32_t)(O_WRONLY | O_RDWR | O_CREAT | O_TRUNC | O_APPEND) | \
    KERNEL_O_TMPFILE)

#ifdef SBX_ARCH

/* ---- the table -------------------------------------------------------------- */

#define C_LOCAL (1u << SANDBOX_LOCAL)
#define C_NET   (1u << SANDBOX_NET)
#define C_PROBE (1u << SANDBOX_PROBE)
#define C_ERASE (1u << SANDBOX_ERASE)
#define C_ALL   (C_LOCAL | C_NET | C_PROBE | C_ERASE)
#define C_RO    (C_LOCAL | C_PROBE | C_ERASE)  /* files opened read-only */
#define C_CONN  (C_NET | C_PROBE)      /* sockets, DNS */
#define C_STATE (C_NET | C_ERASE)      /* removals in the state dir, its lock */

/* The argument checks, by name: a rule points at its first, each at the next. */
enum check_id {
	NONE,
	OPENAT_RO,
	SOCK_LOCAL,
	SOCK_LOCAL_DGRAM,
	IOCTL_IFADDR,
	SOCK_CONN,
	SOCK_CONN_TYPE,
	CLONE_FORK,
#ifdef SYS_open
	OPEN_RO,
#endif
#ifdef __GLIBC__
	MMAP_NOEXEC,
#endif
};

/* One argument check: (arg[idx] & mask) must equal one of v[0..nv-1], else the
 * call is killed, or fails with fail_errno when that is not 0; then check `next`
 * follows (NONE: the rule's action). */
struct check {
	uint8_t idx;
	uint8_t nv;
	uint8_t next;
	uint8_t fail_errno;
	uint32_t mask;
	uint32_t v[2];
};

static const struct check checks[] = {
	/* Opening files read-only. */
	[OPENAT_RO] = { .idx = 2, .mask = OPEN_WRITE_FLAGS, .nv = 1, .v = { 0 } },
#ifdef SYS_open
	[OPEN_RO] = { .idx = 1, .mask = OPEN_WRITE_FLAGS, .nv = 1, .v = { 0 } },
#endif
	/* LOCAL's one socket: AF_INET, SOCK_DGRAM. */
	[SOCK_LOCAL] = { .idx = 0, .mask = 0xffffffffu, .nv = 1, .v = { AF_INET },
	    .next = SOCK_LOCAL_DGRAM },
	[SOCK_LOCAL_DGRAM] = { .idx = 1, .mask = KERNEL_SOCK_TYPE_MASK, .nv = 1,
	    .v = { SOCK_DGRAM } },
	[IOCTL_IFADDR] = { .idx = 1, .mask = 0xffffffffu, .nv = 1, .v = { SIOCGIFADDR } },
	/* NET and PROBE: TCP or UDP over IPv4 or IPv6; another family fails. */
	[SOCK_CONN] = { .idx = 0, .mask = 0xffffffffu, .nv = 2, .v = { AF_INET, AF_INET6 },
	    .fail_errno = EAFNOSUPPORT, .next = SOCK_CONN_TYPE },
	[SOCK_CONN_TYPE] = { .idx = 1, .mask = KERNEL_SOCK_TYPE_MASK, .nv = 2,
	    .v = { SOCK_STREAM, SOCK_DGRAM } },
	/* A plain fork: SIGCHLD, no CLONE_THREAD or CLONE_VM. */
	[CLONE_FORK] = { .idx = 0, .mask = KERNEL_CLONE_THREAD | KERNEL_CLONE_VM | KERNEL_CSIGNAL,
	    .nv = 1, .v = { SIGCHLD } },
#ifdef __GLIBC__
	[MMAP_NOEXEC] = { .idx = 2, .mask = PROT_EXEC, .nv = 1, .v = { 0 } },
#endif
};

/* Not a class: the rule's call fails with ENOSYS instead of being allowed. */
#define R_ENOSYS 0x80u

struct rule {
	uint16_t nr;              /* every number used is below 512 on both architectures */
	uint8_t classes;          /* C_* bits, and R_ENOSYS */
	uint8_t check;            /* the first argument check, NONE when there is none */
};

#define ALLOW(nr, cls) { (nr), (cls), NONE }
#define DENY_ENOSYS(nr, cls) { (nr), (cls) | R_ENOSYS, NONE }
/* Allowed when the argument check (and the ones it chains) passes. */
#define ALLOW_IF(nr, cls, check) { (nr), (cls), (check) }

/* A call has at most one rule in a class: a second could never match (the first
 * match decides), and sandbox_count counts rules. */
static const struct rule rules[] = {
	/* Reading and writing descriptors already open; closing them. */
	ALLOW(SYS_read, C_ALL),
	ALLOW(SYS_write, C_ALL),
	ALLOW(SYS_close, C_ALL),
	ALLOW(SYS_fcntl, C_ALL),             /* musl's open(O_CLOEXEC) sets FD_CLOEXEC again */

	/* Opening files: LOCAL and PROBE read-only; NET also writes in the state dir. */
#ifdef SYS_open
	ALLOW_IF(SYS_open, C_RO, OPEN_RO),
	ALLOW(SYS_open, C_NET),
#endif
	ALLOW_IF(SYS_openat, C_RO, OPENAT_RO),
	ALLOW(SYS_openat, C_NET),
#ifdef SYS_openat2
	/* The state dir in one call (state.c). Its flags are behind a pointer, out of
	 * a filter's reach: read-only classes get ENOSYS and take the walk. */
	ALLOW(SYS_openat2, C_NET),
	DENY_ENOSYS(SYS_openat2, C_RO),
#endif

	/* Metadata, read-only. */
	ALLOW(SYS_fstat, C_ALL),
#ifdef SYS_newfstatat
	ALLOW(SYS_newfstatat, C_ALL),
#endif
#ifdef SYS_stat
	ALLOW(SYS_stat, C_ALL),              /* musl's fstatat(AT_FDCWD, .., 0) on x86_64 */
#endif
#ifdef SYS_lstat
	ALLOW(SYS_lstat, C_ALL),             /* musl's lstat() on x86_64 */
#endif
#ifdef SYS_access
	ALLOW(SYS_access, C_ALL),
#endif
	ALLOW(SYS_faccessat, C_ALL),
#ifdef SYS_faccessat2
	ALLOW(SYS_faccessat2, C_ALL),        /* faccessat() in glibc 2.33+ */
#endif
	ALLOW(SYS_getdents64, C_LOCAL | C_STATE), /* facts' listing of /etc, state's listings */
	ALLOW(SYS_lseek, C_LOCAL | C_STATE), /* state's listings start over on their own fd */
	ALLOW(SYS_uname, C_LOCAL | C_NET),   /* facts */
	ALLOW(SYS_geteuid, C_LOCAL | C_NET), /* the state dir's owner check */
	ALLOW(SYS_getpid, C_NET),            /* state's temp names */


	/* Time (musl falls back to the call when the vDSO is not usable), and the ends
	 * of a run. */
	ALLOW(SYS_clock_gettime, C_ALL),
	ALLOW(SYS_rt_sigreturn, C_ALL),
	ALLOW(SYS_restart_syscall, C_ALL),   /* a poll wait resumed after SIGSTOP */
	ALLOW(SYS_exit_group, C_ALL),

	/* The butler ID's IPv4 address: socket(AF_INET, SOCK_DGRAM) + SIOCGIFADDR.
	 * In LOCAL that socket is all there is: no connect, no send. */
	ALLOW_IF(SYS_socket, C_LOCAL, SOCK_LOCAL),
	ALLOW_IF(SYS_ioctl, C_LOCAL | C_NET, IOCTL_IFADDR),

	/* NET, PROBE: TCP, and UDP for DNS (dns.c: one connected socket per name
	 * server), over IPv4/IPv6 (no raw sockets, no AF_UNIX, no netlink). */
	ALLOW_IF(SYS_socket, C_CONN, SOCK_CONN),
	ALLOW(SYS_connect, C_CONN),
	ALLOW(SYS_getsockopt, C_CONN),       /* SO_ERROR after a non-blocking connect */
	ALLOW(SYS_setsockopt, C_CONN),       /* TCP_NODELAY */
	ALLOW(SYS_sendto, C_CONN),           /* send() */
	ALLOW(SYS_recvfrom, C_CONN),         /* recv() */
#ifdef SYS_poll
	ALLOW(SYS_poll, C_CONN),
#else
	ALLOW(SYS_ppoll, C_CONN),            /* poll() on aarch64 */
#endif
	ALLOW(SYS_getrandom, C_CONN),        /* DNS query IDs; NET: the state's jitter */

	/* NET: check --report's detached child (_Fork: clone with SIGCHLD as its
	 * only flag on aarch64, SYS_fork on x86_64, all signals blocked around it;
	 * the child's setsid and its 0-2 moved onto /dev/null). */
	ALLOW_IF(SYS_clone, C_NET, CLONE_FORK),
#ifdef SYS_fork
	ALLOW(SYS_fork, C_NET),
#endif
	ALLOW(SYS_rt_sigprocmask, C_NET),
	ALLOW(SYS_gettid, C_NET),            /* musl's _Fork, in the child */
	ALLOW(SYS_setsid, C_NET),
#ifdef SYS_dup2
	ALLOW(SYS_dup2, C_NET),
#endif
	ALLOW(SYS_dup3, C_NET),              /* dup2() on aarch64 */

	/* NET: writing in the state dir. */
#ifdef SYS_mkdir
	ALLOW(SYS_mkdir, C_NET),
#endif
	ALLOW(SYS_mkdirat, C_NET),
#ifdef SYS_renameat
	ALLOW(SYS_renameat, C_NET),
#endif
	ALLOW(SYS_renameat2, C_NET),         /* stamps swapped in; renameat() on aarch64 */
	ALLOW(SYS_unlinkat, C_STATE),        /* ERASE: forget, an opted-out report */
	ALLOW(SYS_linkat, C_NET),            /* random-id, published once */
	ALLOW(SYS_fsync, C_NET),
	ALLOW(SYS_flock, C_STATE),

#ifdef __GLIBC__
	/* Host builds only (unit tests: glibc, ASan, UBSan); see the top. */
	ALLOW(SYS_set_robust_list, C_NET),   /* glibc's fork, in the child */
	ALLOW(SYS_brk, C_ALL),               /* malloc in glibc and the sanitizers */
	ALLOW_IF(SYS_mmap, C_ALL, MMAP_NOEXEC),
	ALLOW(SYS_munmap, C_ALL),
	ALLOW(SYS_sigaltstack, C_ALL),
	ALLOW(SYS_madvise, C_ALL),
	ALLOW(SYS_gettid, C_RO),             /* NET has it above */
#endif
};

#define NRULES (sizeof rules / sizeof rules[0])
#define PROG_MAX 512

static struct sbx_insn prog[PROG_MAX];

/* The table's bit for class, 0 for an unknown class. */
static unsigned
class_bit(enum sandbox_class class)
{
	return (unsigned)class <= SANDBOX_ERASE ? 1u << class : 0;
}

/* Every program's start: a foreign architecture killed, the number loaded (and
 * on x86_64, an x32 call killed). */
static const struct sbx_insn head[] = {
	{ BPF_LD_W_LEN, 0, 0, 0 },          /* the kernel's cache skipped: see the top */
	{ BPF_LD_W_ABS, 0, 0, DATA_ARCH },
	{ BPF_JEQ_K, 1, 0, SBX_ARCH },
	{ BPF_RET_K, 0, 0, RET_KILL_PROCESS },
	{ BPF_LD_W_ABS, 0, 0, DATA_NR },
#ifdef SBX_X32_BIT
	{ BPF_JSET_K, 0, 1, SBX_X32_BIT },
	{ BPF_RET_K, 0, 0, RET_KILL_PROCESS },
#endif
};

/* Writes instruction *n of prog[] when it fits, and counts it either way. */
static void
emit(size_t *n, uint16_t code, uint8_t jt, uint8_t jf, uint32_t k)
{
	if (*n < PROG_MAX)
		prog[*n] = (struct sbx_insn){ code, jt, jf, k };
	(*n)++;
}

/* Builds the program for the classes in bit into prog[]. Returns its length, 0
 * if too long. */
static size_t
build(unsigned bit)
{
	size_t n = sizeof head / sizeof head[0];

	memcpy(prog, head, sizeof head);
	for (const struct rule *r = rules; r < rules + NRULES; r++) {
		size_t at = n;

		if (!(r->classes & bit))
			continue;
		/* A holds the number here: a non-matching rule jumps over its body (jf,
		 * set once the body is written), and every body ends in RET, so A is
		 * never changed on that path. */
		emit(&n, BPF_JEQ_K, 0, 0, r->nr);
		for (unsigned c = r->check; c != NONE; c = checks[c].next) {
			const struct check *k = &checks[c];

			emit(&n, BPF_LD_W_ABS, 0, 0, DATA_ARG(k->idx));
			if (k->mask != 0xffffffffu)
				emit(&n, BPF_ALU_AND_K, 0, 0, k->mask);
			/* Value j matches: skip the other values and the RET fail. */
			for (uint8_t j = 0; j < k->nv; j++)
				emit(&n, BPF_JEQ_K, (uint8_t)(k->nv - j), 0, k->v[j]);
			emit(&n, BPF_RET_K, 0, 0,
			    k->fail_errno != 0 ? RET_ERRNO(k->fail_errno) : RET_KILL_PROCESS);
		}
		emit(&n, BPF_RET_K, 0, 0, r->classes & R_ENOSYS ? RET_ERRNO(ENOSYS) : RET_ALLOW);
		if (n <= PROG_MAX)
			prog[at].jf = (uint8_t)(n - at - 1);  /* a body is a dozen at most */
	}
	emit(&n, BPF_RET_K, 0, 0, RET_KILL_PROCESS);
	return n <= PROG_MAX ? n : 0;
}

int
sandbox_count(enum sandbox_class class)
{
	unsigned bit = class_bit(class);
	int count = 0;

	/* One rule per call and class (rules[]), so each allowing rule is a call. */
	for (size_t i = 0; i < NRULES; i++)
		count += (rules[i].classes & bit) && !(rules[i].classes & R_ENOSYS);
	return count;
}

static int
fail(char *err, size_t errlen, const char *what, const char *why)
{
	buf_join(err, errlen, what, why, NULL);
	return -1;
}

int
sandbox_enter(enum sandbox_class class, char *err, size_t errlen)
{
	struct sbx_prog p;
	const char *what;
	size_t n;

	if (class_bit(class) == 0)
		return fail(err, errlen, "unknown sandbox class", NULL);
	n = build(class_bit(class));
	if (n == 0)
		return fail(err, errlen, "filter too long", NULL);
	p.len = (unsigned short)n;
	p.filter = prog;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) != 0)
		what = "the kernel refused no_new_privs: ";
	else if (prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER_, &p, 0, 0) != 0)
		what = "the kernel refused seccomp: ";
	else
		return sandbox_count(class);
	return fail(err, errlen, what, strerror(errno));
}

#else /* no filter for this architecture: the run goes on unsandboxed */

int
sandbox_count(enum sandbox_class class)
{
	(void)class;
	return 0;
}

int
sandbox_enter(enum sandbox_class class, char *err, size_t errlen)
{
	(void)class;
	buf_join(err, errlen, "not supported on this architecture", NULL, NULL);
	return -1;
}

#endif
