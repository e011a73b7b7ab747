/* The program's fds 0-2 as the host's stdio: what fstat shows, terminal ioctls when the host's is one. */
#ifndef GUEST_TTY_H
#define GUEST_TTY_H

#include <stdint.h>

#include <mote/abi.h>

#include "linux.h"

/* Remember the boot info, whose stdio description the monitor rewrites at every restore. */
void tty_init(const struct mote_boot_info *bi);

/*
 * The host's stdin (host_fd 0), stdout (1) or stderr (2) as the monitor last
 * described it (read afresh every time: a restored clone may have other
 * stdio than the VM that was snapshotted). Stdin is always described as
 * /dev/null (a character device 1:3, not a terminal): the guest reads end of
 * file from it whatever the host's is. A host fd that is closed is
 * described as /dev/null too.
 */
struct mote_stdio tty_host_stdio(int host_fd);

/* True if the host's fd `host_fd` (1 or 2) is a terminal now (isatty). */
int tty_is_terminal(int host_fd);

/*
 * Make the stat of the console node for host fd `host_fd` (0-2; see
 * vfs_console_index), already filled by vfs_stat, show the host's file type, permissions and device number: a
 * FIFO for a pipe, a regular file (size 0) for a file, the terminal's device for a terminal.
 */
void tty_fill_stat(int host_fd, struct linux_stat *st);

/*
 * Terminal ioctl `req` on the console node for host fd `host_fd` (0-2).
 * When the host's fd is a terminal: TCGETS (a sane termios, or what TCSETS*
 * last set), TCSETS, TCSETSW, TCSETSF (remembered; no effect on the host
 * terminal), TIOCGWINSZ (the host's window size, or what TIOCSWINSZ set),
 * TIOCSWINSZ, TCSBRK, TCFLSH, TCXONC (accepted). Returns 0, -EFAULT or -EINVAL; -ENOTTY for any
 * other request, and for every request when the host's is not a terminal.
 */
long tty_ioctl(int host_fd, uint32_t req, uint64_t arg);

#endif /* GUEST_TTY_H */
