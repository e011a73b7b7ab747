/* The program's fds 0-2 as the host's stdio: what fstat shows, terminal ioctls when the host's is one. */
#include "tty.h"

#include "console.h"
#include "klib.h"
#include "uaccess.h"

#define MAKEDEV(ma, mi) ((uint64_t)(ma) << 8 | (uint64_t)(mi))

#define TCGETS 0x5401
#define TCSETS 0x5402
#define TCSETSW 0x5403
#define TCSETSF 0x5404
#define TCSBRK 0x5409
#define TCXONC 0x540a
#define TCFLSH 0x540b
#define TIOCGWINSZ 0x5413
#define TIOCSWINSZ 0x5414

/* The kernel's struct termios (what TCGETS copies; libc converts to its own). */
#define NCCS 19
struct linux_termios {
	uint32_t c_iflag, c_oflag, c_cflag, c_lflag;
	uint8_t c_line;
	uint8_t c_cc[NCCS];
};

struct linux_winsize {
	uint16_t ws_row, ws_col, ws_xpixel, ws_ypixel;
};

static const volatile struct mote_boot_info *boot_info;

/*
 * The terminal's settings as a fresh Linux terminal has them (tty_std_termios:
 * ICRNL IXON, OPOST ONLCR, B38400 CS8 CREAD HUPCL, ISIG ICANON ECHO ECHOE
 * ECHOK ECHOCTL ECHOKE IEXTEN, the usual control characters), until the
 * program sets its own. One set serves every console fd that is a terminal.
 */
static struct linux_termios termios = {
    .c_iflag = 0002400,
    .c_oflag = 0000005,
    .c_cflag = 0002277,
    .c_lflag = 0105073,
    .c_cc = {3, 034, 0177, 025, 4, 0, 1, 0, 021, 023, 032, 0, 022, 017, 027, 026, 0},
};
static struct linux_winsize winsize_set; /* TIOCSWINSZ, overriding the host's size */
static int winsize_is_set;

void tty_init(const struct mote_boot_info *bi)
{
	boot_info = bi;
}

/* What the guest's stdin is, and what a console fd looks like whose host fd is closed. */
static struct mote_stdio dev_null(void)
{
	return (struct mote_stdio){.mode = S_IFCHR | 0666, .rdev = MAKEDEV(1, 3)};
}

struct mote_stdio tty_host_stdio(int host_fd)
{
	if (host_fd <= 0 || host_fd > 2 || !boot_info)
		return dev_null();
	const volatile struct mote_stdio *d = &boot_info->stdio[host_fd];
	struct mote_stdio s;
	/* A restore rewrites the description between any two instructions: copy it within one generation. */
	uint64_t gen;
	do {
		gen = boot_info->clock.generation;
		s = (struct mote_stdio){.mode = d->mode,
					.flags = d->flags,
					.rdev = d->rdev,
					.rows = d->rows,
					.cols = d->cols,
					.xpixel = d->xpixel,
					.ypixel = d->ypixel};
	} while (boot_info->clock.generation != gen);
	return (s.mode & S_IFMT) ? s : dev_null();
}

int tty_is_terminal(int host_fd)
{
	return host_fd > 0 && host_fd <= 2 && (tty_host_stdio(host_fd).flags & MOTE_STDIO_TERMINAL) != 0;
}

void tty_fill_stat(int host_fd, struct linux_stat *st)
{
	struct mote_stdio s = tty_host_stdio(host_fd);
	st->st_mode = s.mode;
	uint32_t type = s.mode & S_IFMT;
	st->st_rdev = type == S_IFCHR || type == S_IFBLK ? s.rdev : 0;
	st->st_size = 0;
	st->st_blocks = 0;
	if (s.flags & MOTE_STDIO_TERMINAL)
		st->st_blksize = 1024; /* what Linux reports for a terminal */
}

long tty_ioctl(int host_fd, uint32_t req, uint64_t arg)
{
	if (!tty_is_terminal(host_fd))
		return -ENOTTY;
	switch (req) {
	case TCGETS: return user_copy_to(arg, &termios, sizeof(termios));
	case TCSETS:
	case TCSETSW:
	case TCSETSF: {
		struct linux_termios t;
		if (user_copy_from(&t, arg, sizeof(t)) < 0)
			return -EFAULT;
		if (req != TCSETS)
			console_flush(); /* "after all output was transmitted" */
		termios = t;
		return 0;
	}
	case TIOCGWINSZ: {
		struct linux_winsize w = winsize_set;
		if (!winsize_is_set) {
			struct mote_stdio s = tty_host_stdio(host_fd);
			w = (struct linux_winsize){s.rows, s.cols, s.xpixel, s.ypixel};
		}
		return user_copy_to(arg, &w, sizeof(w));
	}
	case TIOCSWINSZ: {
		struct linux_winsize w;
		if (user_copy_from(&w, arg, sizeof(w)) < 0)
			return -EFAULT;
		winsize_set = w;
		winsize_is_set = 1;
		return 0;
	}
	case TCSBRK: /* arg != 0 is tcdrain */ console_flush(); return 0;
	case TCXONC:
	case TCFLSH: return arg <= 2 ? 0 : -EINVAL;
	default: return -ENOTTY;
	}
}
