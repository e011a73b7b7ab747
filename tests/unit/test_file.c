/* Unit test of lib/file.c: mote_open_regular opens regular files and refuses FIFOs, directories and devices
 * without blocking. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "file.h"

#include "check.h"

int main(void)
{
	char dir[] = "/tmp/mote-test-file.XXXXXX";
	if (!mkdtemp(dir))
		return 1;
	char reg[256], fifo[256], link[256], missing[256];
	snprintf(reg, sizeof(reg), "%s/regular", dir);
	snprintf(fifo, sizeof(fifo), "%s/fifo", dir);
	snprintf(link, sizeof(link), "%s/link-to-fifo", dir);
	snprintf(missing, sizeof(missing), "%s/missing", dir);
	FILE *f = fopen(reg, "w");
	fputs("data", f);
	fclose(f);
	mkfifo(fifo, 0600);
	symlink(fifo, link);

	struct stat st;
	int fd = mote_open_regular(reg, &st);
	check("open-regular-file", fd >= 0 && S_ISREG(st.st_mode) && st.st_size == 4, "fd %d", fd);
	if (fd >= 0) {
		int fl = fcntl(fd, F_GETFL), fdfl = fcntl(fd, F_GETFD);
		check("regular-file-blocking-cloexec", !(fl & O_NONBLOCK) && (fdfl & FD_CLOEXEC),
		      "flags %#x fd flags %#x", fl, fdfl);
		char b[8];
		check("regular-file-readable", read(fd, b, sizeof(b)) == 4 && !memcmp(b, "data", 4),
		      "read failed");
		close(fd);
	}
	/* A FIFO with no writer would block a plain open() forever. */
	fd = mote_open_regular(fifo, &st);
	check("fifo-refused", fd == -2 && S_ISFIFO(st.st_mode), "returned %d", fd);
	fd = mote_open_regular(link, &st);
	check("symlink-to-fifo-refused", fd == -2 && S_ISFIFO(st.st_mode), "returned %d", fd);
	fd = mote_open_regular(dir, &st);
	check("directory-refused", fd == -2 && S_ISDIR(st.st_mode), "returned %d", fd);
	fd = mote_open_regular("/dev/null", &st);
	check("device-refused", fd == -2 && S_ISCHR(st.st_mode), "returned %d", fd);
	errno = 0;
	fd = mote_open_regular(missing, &st);
	check("missing-file-enoent", fd == -1 && errno == ENOENT, "returned %d errno %d", fd, errno);
	check("kind-names",
	      !strcmp(mote_file_kind(S_IFIFO), "a FIFO") && !strcmp(mote_file_kind(S_IFDIR), "a directory"),
	      "%s / %s", mote_file_kind(S_IFIFO), mote_file_kind(S_IFDIR));

	/* Exact positioned reads and writes: a write then a read back at an offset, a read past the end. */
	int rw = open(reg, O_RDWR | O_CLOEXEC);
	char back[6] = {0};
	check("pwrite-all", rw >= 0 && mote_pwrite_all(rw, "abcdef", 6, 4096) == 0, "fd %d", rw);
	check("pread-all", mote_pread_all(rw, back, 6, 4096) == 0 && !memcmp(back, "abcdef", 6),
	      "read '%.6s'", back);
	check("pread-all-short-file", mote_pread_all(rw, back, 6, 4099) == -2, "not -2 at the end");
	errno = 0;
	check("pread-all-bad-fd", mote_pread_all(-1, back, 6, 0) == -1 && errno == EBADF, "errno %d", errno);
	if (rw >= 0)
		close(rw);

	unlink(link);
	unlink(fifo);
	unlink(reg);
	rmdir(dir);
	return failures ? 1 : 0;
}
