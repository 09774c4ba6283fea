/*
 * maxrss PROGRAM [ARGS...]: runs PROGRAM, prints its peak RSS in KiB on stderr (last
 * line) and exits with its status. Built static with musl by bench/run.sh, so the
 * launcher's own pages (which Linux counts in the child's ru_maxrss: the child runs
 * the launcher's image until execve) are a few dozen KiB, where /usr/bin/time's
 * are ~450 KiB: enough to hide the difference between the floor and anontel.
 */
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

static void
put(long v)
{
	char s[32];
	int i = sizeof s;

	s[--i] = '\n';
	do
		s[--i] = (char)('0' + v % 10);
	while ((v /= 10) > 0 && i > 0);
	write(2, s + i, sizeof s - (size_t)i);
}

int
main(int argc, char **argv)
{
	struct rusage ru;
	int st;
	pid_t pid;

	if (argc < 2)
		return 2;
	pid = vfork();
	if (pid == 0) {
		execv(argv[1], argv + 1);
		_exit(127);
	}
	if (pid < 0 || wait4(pid, &st, 0, &ru) < 0)
		return 2;
	put(ru.ru_maxrss);
	return WIFEXITED(st) ? WEXITSTATUS(st) : 1;
}
