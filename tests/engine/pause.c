/*
 * PID 1 of the image tests/integration/test_engine.py builds: it only waits, as the
 * "pause" process of a pod does. It never reaps children, on purpose: that is the
 * PID 1 of many FROM scratch images, and what anontel's docs describe for it.
 */
#include <unistd.h>

int
main(void)
{
	for (;;)
		pause();
}
