/* File descriptor hygiene at mote-vmm start: valid stdio, and no inherited descriptor kept by accident. */
#ifndef MOTE_VMM_FDS_H
#define MOTE_VMM_FDS_H

/*
 * Make descriptors 0, 1 and 2 valid: each one that is closed is opened on
 * /dev/null, so that nothing opened later (/dev/kvm, a snapshot file) can
 * become the guest's stdout or stderr. MUST run before anything is opened.
 * Returns 0, or -1 when /dev/null cannot be opened.
 */
int vmm_fds_standard(void);

/*
 * Close every descriptor from 3 up except the `nkeep` ones in `keep` (the
 * descriptors mote-vmm was given on purpose: --log-fd, --keep-fd). Uses
 * close_range(2), falling back to closing each open descriptor listed in
 * /proc/self/fd. Returns 0, or -1 with errno when descriptors may remain.
 */
int vmm_fds_close_inherited(const int *keep, int nkeep);

/* 1 when `fd` is an open descriptor of this process. */
int vmm_fd_is_open(int fd);

#endif /* MOTE_VMM_FDS_H */
