/*
 * sandbox: after a verb has read its inputs (the config; for check, the trust
 * anchors of the probe; report reads its CA file later, at its first send), the process
 * sets no_new_privs and installs a seccomp-bpf filter that allows only the system
 * calls the rest of that verb needs. Four classes:
 *
 *   SANDBOX_LOCAL  show, id, status, schema, notice: read files (open/openat
 *                  refused unless read-only: no O_WRONLY/O_RDWR/O_CREAT/O_TRUNC/
 *                  O_APPEND/O_TMPFILE), write to the descriptors already open
 *                  (stdout, stderr), one AF_INET datagram socket for the
 *                  SIOCGIFADDR ioctl of the ID (no connect, no send: it cannot
 *                  carry a byte), exit.
 *   SANDBOX_NET    report, check --report: LOCAL's calls plus TCP/UDP over AF_INET
 *                  and AF_INET6 (UDP: DNS), getrandom (DNS query IDs, the
 *                  state's jitter), a plain fork (clone only with SIGCHLD, no
 *                  CLONE_VM or CLONE_THREAD) with setsid and dup2 (check
 *                  --report's detached child), and writes in the state dir
 *                  (open for write, mkdir, rename, unlink, link, fsync, flock).
 *   SANDBOX_PROBE  check without --report: files read-only (the CA file a
 *                  redirect to https loads), writes to open descriptors, TCP/UDP
 *                  over AF_INET and AF_INET6 and getrandom (DNS query IDs) as in
 *                  NET. No fork, setsid or dup2, no state-dir calls
 *                  (mkdir, rename, unlink, link, fsync, flock), none of LOCAL's
 *                  ID or facts calls (SIOCGIFADDR, uname, getdents64, geteuid).
 *   SANDBOX_ERASE  forget, and report when telemetry is off (it removes what was
 *                  kept): files read-only as in LOCAL, directory listings, writes
 *                  to open descriptors, and in the state dir unlink and flock only.
 *                  No open for writing, rename, link, mkdir or fsync: once in it,
 *                  a run can remove files but not make or change one. No sockets,
 *                  no uname, no getrandom.
 *
 * In all: no mmap, mprotect or brk (the static binary allocates nothing; the
 * glibc host build of the unit tests may map memory, never executable); no
 * threads (clone only as NET's plain fork, no clone3); no execve, ptrace, kill,
 * mount, chmod, chown, setuid... A call outside the list ends the whole process
 * as if by SIGSYS (SECCOMP_RET_KILL_PROCESS), except a few that libcs probe and
 * handle failing, which fail with an errno instead (see sandbox.c). Paths cannot
 * be filtered by seccomp: which files are written is still state.c's business
 * (O_NOFOLLOW, dirfd-relative names).
 *
 * Supported on x86_64 and aarch64 (little-endian); the filter checks the
 * architecture of every call and kills on a foreign one (i386 int 0x80, x32).
 * Elsewhere sandbox_enter says "not supported" and the run goes on unsandboxed.
 * Nothing here prints.
 *
 * `id` enters LOCAL after computing the ID, since the random scheme's first run
 * writes its file; `show` and `status` only read it (id_read).
 */
#ifndef ANONTEL_SANDBOX_H
#define ANONTEL_SANDBOX_H

#include <stddef.h>

enum sandbox_class {
	SANDBOX_LOCAL,
	SANDBOX_NET,
	SANDBOX_PROBE,
	SANDBOX_ERASE,
};

/*
 * Sets no_new_privs and installs the filter for class in the calling thread (call
 * it before any thread is made: threads made later inherit it). Returns the
 * number of system calls the class allows (> 0) when the filter is on; -1 when it
 * is not, with the reason in err ("not supported on this architecture", "the
 * kernel refused seccomp: Invalid argument", ...): the caller goes on without it.
 * no_new_privs may be set even when the filter is refused (it only stops privilege
 * gains through execve, which anontel never does).
 *
 * Kernels before 4.14 do not know SECCOMP_RET_KILL_PROCESS and treat it as their
 * default, SECCOMP_RET_KILL (the thread): a forbidden call then ends the calling
 * thread only, which is the whole process (anontel has one thread). We keep one
 * filter for every kernel rather than probing.
 */
int sandbox_enter(enum sandbox_class class, char *err, size_t errlen);

/* The number of system calls class allows (what sandbox_enter returns on success),
 * 0 for an unknown class or an unsupported architecture. */
int sandbox_count(enum sandbox_class class);

#endif
