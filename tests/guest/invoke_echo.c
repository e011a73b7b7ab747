/* Guest test runtime: snapshot, then serve /dev/mote/invoke; each request comes back with every byte + 1.
 *
 * usage: invoke_echo [no-snapshot]
 * The first message is "ready generation=G". A request is answered with a transformed copy (written in
 * two parts), except these (the test's own protocol; the monitor and guest kernel see opaque bytes):
 *   quit         exit 0 without answering
 *   log:TEXT     write TEXT and a newline to stdout (one write), then answer "logged"
 *   probe:CAP    answer "probe ..." with the results of FIONREAD, lseek, pread, poll and a write of
 *                CAP + 1 bytes (CAP: the response area's capacity; nothing may be appended)
 *   peek:ADDR    read one byte at guest address ADDR (hex), answer "peeked XX" (a crash if unmapped)
 *   poke:ADDR    write one byte at ADDR, answer "poked"
 *   raw:FLAGS    make MOTE_HC_INVOKE directly (bypassing the guest kernel) with `flags` FLAGS (hex;
 *                not 0: refused at once, without a doorbell), answer "raw ret=R"
 * Started without a snapshot file or without an attached channel it prints one line on stderr and
 * exits 2.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "mote/abi.h"

static void die(const char *what)
{
	fprintf(stderr, "invoke_echo: %s: %s\n", what, strerror(errno));
	exit(2);
}

static void write_all(int fd, const void *p, size_t n)
{
	if (write(fd, p, n) != (ssize_t)n)
		die("write to /dev/mote/invoke");
}

static void answer(int fd, const char *text)
{
	write_all(fd, text, strlen(text));
}

/* Read one whole request: the first read waits for it, FIONREAD says what is left. */
static size_t read_request(int fd, uint8_t **buf, size_t *cap)
{
	size_t len = 0;
	for (;;) {
		if (len == *cap) {
			*cap = *cap ? *cap * 2 : 65536;
			*buf = realloc(*buf, *cap);
			if (!*buf)
				die("realloc");
		}
		ssize_t n = read(fd, *buf + len, *cap - len);
		if (n < 0)
			die("read /dev/mote/invoke");
		len += (size_t)n;
		int left = 0;
		if (ioctl(fd, FIONREAD, &left) < 0)
			die("FIONREAD");
		if (left == 0)
			return len;
	}
}

static void probe(int fd, size_t resp_cap)
{
	char out[512];
	int left = -1;
	int r_ioctl = ioctl(fd, FIONREAD, &left);
	errno = 0;
	off_t r_seek = lseek(fd, 0, SEEK_CUR);
	int e_seek = errno;
	char c;
	errno = 0;
	ssize_t r_pread = pread(fd, &c, 1, 0);
	int e_pread = errno;
	struct pollfd p = {.fd = fd, .events = POLLIN | POLLOUT};
	int r_poll = poll(&p, 1, 0);
	uint8_t *big = calloc(1, resp_cap + 1);
	if (!big)
		die("calloc");
	errno = 0;
	ssize_t r_big = write(fd, big, resp_cap + 1);
	int e_big = errno;
	free(big);
	snprintf(out, sizeof(out),
		 "probe fionread=%d/%d lseek=%lld/%s pread=%zd/%s poll=%d/%s%s overfull=%zd/%s", r_ioctl,
		 left, (long long)r_seek, e_seek == ESPIPE ? "ESPIPE" : "other", r_pread,
		 e_pread == ESPIPE ? "ESPIPE" : "other", r_poll, (p.revents & POLLOUT) ? "out" : "",
		 (p.revents & POLLIN) ? "+in" : "", r_big, e_big == EMSGSIZE ? "EMSGSIZE" : "other");
	answer(fd, out);
}

int main(int argc, char **argv)
{
	int snapshot = !(argc > 1 && strcmp(argv[1], "no-snapshot") == 0);
	if (snapshot) {
		int s = open("/dev/mote/snapshot", O_WRONLY);
		if (s < 0 || write(s, "1", 1) != 1)
			die("snapshot (/dev/mote/snapshot)");
		close(s);
	}
	int fd = open("/dev/mote/invoke", O_RDWR | O_CLOEXEC);
	if (fd < 0)
		die("open /dev/mote/invoke");
	char gen[32] = "?";
	int g = open("/dev/mote/generation", O_RDONLY);
	ssize_t gn = g >= 0 ? read(g, gen, sizeof(gen) - 1) : -1;
	if (gn > 0)
		gen[gn - 1] = 0;
	char ready[64];
	snprintf(ready, sizeof(ready), "ready generation=%s", gen);
	answer(fd, ready);

	uint8_t *buf = NULL, *out = NULL;
	size_t cap = 0, out_cap = 0;
	for (;;) {
		size_t len = read_request(fd, &buf, &cap);
		if (len == 4 && memcmp(buf, "quit", 4) == 0)
			return 0;
		if (len > 4 && memcmp(buf, "log:", 4) == 0) {
			char line[4096];
			size_t n = len - 4 < sizeof(line) - 1 ? len - 4 : sizeof(line) - 1;
			memcpy(line, buf + 4, n);
			line[n++] = '\n';
			if (write(1, line, n) != (ssize_t)n)
				die("write stdout");
			answer(fd, "logged");
			continue;
		}
		if (len > 6 && len < 32 && memcmp(buf, "probe:", 6) == 0) {
			char num[32] = {0};
			memcpy(num, buf + 6, len - 6);
			probe(fd, strtoull(num, NULL, 10));
			continue;
		}
		if (len > 4 && len < 32 && memcmp(buf, "raw:", 4) == 0) {
			char hex[32] = {0};
			memcpy(hex, buf + 4, len - 4);
			static struct mote_hc_invoke call;
			call.flags = (uint32_t)strtoul(hex, NULL, 16);
			call.ret = 12345;
			uint16_t port = MOTE_HC_PORT_BASE + MOTE_HC_INVOKE;
			__asm__ volatile("outl %0, %w1"
					 :
					 : "a"((uint32_t)(uintptr_t)&call), "Nd"(port)
					 : "memory");
			char text[32];
			snprintf(text, sizeof(text), "raw ret=%lld", (long long)call.ret);
			answer(fd, text);
			continue;
		}
		if (len > 5 && (memcmp(buf, "peek:", 5) == 0 || memcmp(buf, "poke:", 5) == 0)) {
			char hex[32] = {0};
			memcpy(hex, buf + 5, len - 5 < sizeof(hex) - 1 ? len - 5 : sizeof(hex) - 1);
			volatile uint8_t *at = (volatile uint8_t *)(uintptr_t)strtoull(hex, NULL, 16);
			char text[32];
			if (buf[1] == 'e') {
				snprintf(text, sizeof(text), "peeked %02x", *at);
			} else {
				*at = 0x5a;
				snprintf(text, sizeof(text), "poked");
			}
			answer(fd, text);
			continue;
		}
		if (len > out_cap) {
			out_cap = len;
			out = realloc(out, out_cap);
			if (!out)
				die("realloc");
		}
		for (size_t i = 0; i < len; i++)
			out[i] = (uint8_t)(buf[i] + 1);
		write_all(fd, out, len / 2);
		write_all(fd, out + len / 2, len - len / 2);
	}
}
