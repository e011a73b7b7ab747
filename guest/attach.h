/* A function attached to a restored VM: the boot info's attach block, /fn, and /dev/mote/invoke's channel. */
#ifndef GUEST_ATTACH_H
#define GUEST_ATTACH_H

#include <stdint.h>

#include <mote/abi.h>

/* Remember the boot info, whose `attach` block the monitor writes at a restore. MUST run before any syscall.
 */
void attach_init(struct mote_boot_info *bi);

/*
 * Act on a restore (a new clock generation) once: with an attach block of
 * this generation, mount the bundle image read-only at /fn (kept when it is
 * the same tree) and take the invoke region after checking its header (a bad
 * one makes the channel fail with EIO); without one, unmount /fn and drop the
 * channel. Cheap when nothing changed: called at every syscall entry.
 */
void attach_refresh(void);

/* open() of /dev/mote/invoke: 0, -ENODEV (no channel attached) or -EIO (its region was refused). */
long invoke_open(void);

/*
 * read() of /dev/mote/invoke into kernel-checked `buf`: the unread bytes of
 * the current request, up to `len`; when there are none (consumed, or no
 * request yet), first hand over the pending message (resp_seq = the last
 * request's req_seq, resp_len = bytes written since) and wait for the next
 * request in the monitor (MOTE_HC_INVOKE, one exit; console output is sent
 * first). A request of 0 bytes reads as 0 once. Returns the bytes copied,
 * -ENODEV, or -EIO (a bad region or request length).
 */
long invoke_read(void *buf, uint64_t len);

/* write(): append `len` bytes to the pending message. Returns len, -EMSGSIZE (past resp_cap: nothing
 * appended), -ENODEV or -EIO. */
long invoke_write(const void *buf, uint64_t len);

/* Unread bytes of the current request (FIONREAD, poll), or -ENODEV / -EIO. */
long invoke_unread(void);

#endif /* GUEST_ATTACH_H */
