/*
 * Guest test: what fds 0-2 look like to the program, and how its libc buffers stdout, to compare with a
 * native run under the same redirection (pipe, file, terminal, /dev/null).
 *
 * usage: stdio_kind [--snapshot] [REPORT_FD]
 * Writes "stdio_kind" to stdout (so that the libc decides how to buffer it), then one line per fd to
 * REPORT_FD (default 1):
 *   fdN TYPE [MAJ:MIN] tty=0|1 [winsize=ROWSxCOLS] termios=ok|enotty|bad
 *   stdout linebuf=0|1 bufsize=N
 * TYPE is fifo, reg, chr, dir, blk, sock, lnk or closed; MAJ:MIN is the device of a chr/blk; termios=ok
 * means tcgetattr succeeded and a changed setting read back as set (then restored). With --snapshot it
 * first asks for a snapshot (/dev/mote/snapshot; natively it does not exist), so a clone reports its own
 * stdio.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdio_ext.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <termios.h>
#include <unistd.h>

static const char *type_name(mode_t m)
{
	switch (m & S_IFMT) {
	case S_IFIFO: return "fifo";
	case S_IFREG: return "reg";
	case S_IFCHR: return "chr";
	case S_IFDIR: return "dir";
	case S_IFBLK: return "blk";
	case S_IFSOCK: return "sock";
	case S_IFLNK: return "lnk";
	default: return "unknown";
	}
}

/* tcgetattr, then flip ECHO, read it back and restore: "ok", "enotty" or "bad". */
static const char *termios_check(int fd)
{
	struct termios t, changed, back;
	if (tcgetattr(fd, &t) < 0)
		return errno == ENOTTY ? "enotty" : "bad";
	changed = t;
	changed.c_lflag ^= ECHO;
	if (tcsetattr(fd, TCSANOW, &changed) < 0 || tcgetattr(fd, &back) < 0)
		return "bad";
	int same = (back.c_lflag & ECHO) == (changed.c_lflag & ECHO);
	if (tcsetattr(fd, TCSANOW, &t) < 0)
		return "bad";
	return same ? "ok" : "bad";
}

int main(int argc, char **argv)
{
	int argi = 1;
	if (argi < argc && strcmp(argv[argi], "--snapshot") == 0) {
		argi++;
		int fd = open("/dev/mote/snapshot", O_WRONLY);
		if (fd >= 0) {
			if (write(fd, "1", 1) != 1)
				perror("stdio_kind: snapshot");
			close(fd);
		}
	}
	int report = argi < argc ? atoi(argv[argi]) : 1;

	/* The first output decides the buffering: glibc at the first write to the stream, musl at its first
	 * flush. */
	printf("stdio_kind\n");
	fflush(stdout);
	int linebuf = __flbf(stdout) != 0;
	size_t bufsize = __fbufsize(stdout);

	char line[256];
	for (int fd = 0; fd < 3; fd++) {
		struct stat st;
		int n;
		if (fstat(fd, &st) < 0) {
			n = snprintf(line, sizeof(line), "fd%d closed\n", fd);
		} else {
			char dev[32] = "", win[48] = "";
			if (S_ISCHR(st.st_mode) || S_ISBLK(st.st_mode))
				snprintf(dev, sizeof(dev), " %u:%u", major(st.st_rdev), minor(st.st_rdev));
			int tty = isatty(fd);
			struct winsize ws;
			if (tty && ioctl(fd, TIOCGWINSZ, &ws) == 0)
				snprintf(win, sizeof(win), " winsize=%ux%u", ws.ws_row, ws.ws_col);
			n = snprintf(line, sizeof(line), "fd%d %s%s tty=%d%s termios=%s\n", fd,
				     type_name(st.st_mode), dev, tty, win, termios_check(fd));
		}
		if (write(report, line, (size_t)n) != n)
			return 2;
	}
	int n = snprintf(line, sizeof(line), "stdout linebuf=%d bufsize=%zu\n", linebuf, bufsize);
	if (write(report, line, (size_t)n) != n)
		return 2;
	return 0;
}
