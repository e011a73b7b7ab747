/* Messages of the invoke channel between the function gateway and a runtime in the VM: encode and decode. */
#ifndef MOTE_INVOKE_MSG_H
#define MOTE_INVOKE_MSG_H

/*
 * The guest kernel and the monitor only move these messages (see
 * struct mote_invoke_region in <mote/abi.h>); this module is their encoding,
 * shared by the gateway (encodes requests, decodes what runtimes send) and
 * the runtimes (decode requests, encode responses). Plain C with <stdint.h>
 * and <string.h> only, so every runtime can link it.
 *
 * Wire format, little-endian, no padding, every length explicit:
 *
 *   common prefix (16 bytes):
 *     u32 magic MOTE_MSG_MAGIC, u16 version MOTE_MSG_VERSION, u16 type,
 *     u64 total length of the message in bytes, prefix included
 *   REQUEST (gateway -> runtime):
 *     u64 id, u32 method_len, u32 path_len, u32 query_len, u32 nheaders,
 *     u64 headers_len, u64 body_len,
 *     method, path, query, headers block, body
 *   RESPONSE (runtime -> gateway):
 *     u32 status, u32 nheaders, u64 headers_len, u64 body_len,
 *     headers block, body
 *   READY (runtime -> gateway, its first message: the handler loaded):
 *   INIT_ERROR (runtime -> gateway, first message: the handler could not be loaded):
 *     u32 text_len, text (one line: runtime identity for READY, the error for INIT_ERROR)
 *   headers block: nheaders times { u32 name_len, u32 value_len, name, value },
 *     exactly headers_len bytes
 *
 * Decoding checks everything before it returns: magic, version, type, that
 * the total length equals the bytes given, that every length fits (no
 * overflow) and the parts add up exactly, that the header block holds
 * exactly nheaders entries, that the method and every header name are
 * non-empty HTTP tokens (RFC 9110 tchar: letters, digits and
 * !#$%&'*+-.^_`|~), that path, query, header values and texts contain no NUL,
 * CR or LF, that a path starts with '/', and that a status is 100..599. So a
 * decoded message can be put into HTTP as it is without splitting a line or
 * a header. Decoders never allocate and never read outside [buf, buf + len):
 * views point into the buffer, which must outlive them. Encoders refuse what
 * the decoders would refuse.
 */

#include <stddef.h>
#include <stdint.h>

#define MOTE_MSG_MAGIC 0x3167736du /* "msg1" */
#define MOTE_MSG_VERSION 1u
#define MOTE_MSG_PREFIX_SIZE 16u

enum mote_msg_type {
	MOTE_MSG_REQUEST = 1,
	MOTE_MSG_RESPONSE = 2,
	MOTE_MSG_READY = 3,
	MOTE_MSG_INIT_ERROR = 4,
};

/* Results of the decoders (and the encoders' only failure). */
enum mote_msg_result {
	MOTE_MSG_OK = 0,
	MOTE_MSG_TRUNCATED = -1,  /* shorter than its prefix says (or than a prefix) */
	MOTE_MSG_MALFORMED = -2,  /* any other inconsistency; the message is unusable */
	MOTE_MSG_WRONG_TYPE = -3, /* a valid prefix of another type than asked for */
	MOTE_MSG_NO_ROOM = -4,	  /* encoders: the buffer is too small */
};

/* One header, as a view (name and value are not NUL-terminated). */
struct mote_msg_header {
	const char *name;
	uint32_t name_len;
	const char *value;
	uint32_t value_len;
};

/* A decoded request (views into the decoded buffer). */
struct mote_msg_request {
	uint64_t id;
	const char *method; /* e.g. "GET" */
	uint32_t method_len;
	const char *path; /* the rest of the URL path after /fn/NAME, "/" at least, percent-encoding kept */
	uint32_t path_len;
	const char *query; /* after '?', without it; query_len 0 when the URL had none */
	uint32_t query_len;
	uint32_t nheaders;
	const uint8_t *headers; /* the checked headers block: walk it with mote_msg_next_header */
	uint64_t headers_len;
	const uint8_t *body;
	uint64_t body_len;
};

/* A decoded response. */
struct mote_msg_response {
	uint32_t status; /* 100..599 */
	uint32_t nheaders;
	const uint8_t *headers;
	uint64_t headers_len;
	const uint8_t *body;
	uint64_t body_len;
};

/* Bytes of the fixed part of each message type (prefix included): the smallest such message. */
#define MOTE_MSG_REQUEST_FIXED 56u
#define MOTE_MSG_RESPONSE_FIXED 40u
#define MOTE_MSG_TEXT_FIXED 20u

/*
 * The type of the message in buf[len] after checking its prefix (magic,
 * version, known type, total length == len): a positive enum mote_msg_type,
 * or MOTE_MSG_TRUNCATED / MOTE_MSG_MALFORMED.
 */
int mote_msg_type(const void *buf, uint64_t len);

/*
 * For readers of a stream (a runtime reading /dev/mote/invoke in pieces):
 * check the prefix in the first len bytes of a message (magic, version,
 * known type, a total length no smaller than the type's fixed part) and
 * store that total length in *total. Returns the positive type, or
 * MOTE_MSG_TRUNCATED when len < MOTE_MSG_PREFIX_SIZE, or MOTE_MSG_MALFORMED.
 * The bytes after the prefix are not looked at: decode the whole message.
 */
int mote_msg_prefix(const void *buf, uint64_t len, uint64_t *total);

/* Decode a REQUEST filling *out. Returns MOTE_MSG_OK or a negative enum mote_msg_result. */
int mote_msg_decode_request(const void *buf, uint64_t len, struct mote_msg_request *out);

/* Decode a RESPONSE filling *out. Returns MOTE_MSG_OK or a negative enum mote_msg_result. */
int mote_msg_decode_response(const void *buf, uint64_t len, struct mote_msg_response *out);

/*
 * Decode a READY or INIT_ERROR message: *type gets which, *text and
 * *text_len its text. Returns MOTE_MSG_OK or a negative enum mote_msg_result.
 */
int mote_msg_decode_text(const void *buf, uint64_t len, int *type, const char **text, uint32_t *text_len);

/*
 * Walk a checked headers block (from a decoded request or response): the
 * first call with *cursor == 0 yields the first header; returns 1 with *h
 * filled, 0 after the last one.
 */
int mote_msg_next_header(const uint8_t *block, uint64_t block_len, uint64_t *cursor,
			 struct mote_msg_header *h);

/* A request to encode: the caller's views. */
struct mote_msg_request_fields {
	uint64_t id;
	const char *method;
	uint32_t method_len;
	const char *path;
	uint32_t path_len;
	const char *query;
	uint32_t query_len;
	const struct mote_msg_header *headers;
	uint32_t nheaders;
	const void *body;
	uint64_t body_len;
};

/*
 * Encode a REQUEST into buf[cap]. Returns the bytes written (the message's
 * total length), or MOTE_MSG_NO_ROOM (nothing usable written), or
 * MOTE_MSG_MALFORMED when a field would not decode (NUL/CR/LF in a name,
 * path not starting with '/', ...). Encoding then decoding yields the same
 * fields.
 */
int64_t mote_msg_encode_request(void *buf, uint64_t cap, const struct mote_msg_request_fields *r);

/*
 * Building a RESPONSE in place, header by header, without knowing the sizes
 * up front (runtimes write straight into their output buffer):
 *   mote_msg_response_begin(&b, buf, cap, status);
 *   mote_msg_response_header(&b, name, nlen, value, vlen);   (any number)
 *   mote_msg_response_body(&b, data, len);                   (any number: appended)
 *   n = mote_msg_response_end(&b);
 * A header after body bytes, a bad status or bad header bytes make the
 * builder fail; so does running out of room. Only _end reports: the total
 * length, or a negative enum mote_msg_result.
 */
struct mote_msg_builder {
	uint8_t *buf;
	uint64_t cap, len;
	uint32_t nheaders;
	uint64_t headers_len, body_len;
	int error; /* first failure (enum mote_msg_result), 0 while fine */
};

void mote_msg_response_begin(struct mote_msg_builder *b, void *buf, uint64_t cap, uint32_t status);
void mote_msg_response_header(struct mote_msg_builder *b, const char *name, uint32_t name_len,
			      const char *value, uint32_t value_len);
void mote_msg_response_body(struct mote_msg_builder *b, const void *data, uint64_t len);
int64_t mote_msg_response_end(struct mote_msg_builder *b);

/*
 * Encode a READY or INIT_ERROR (`type`) message with `text` into buf[cap]. Returns the total
 * length or MOTE_MSG_NO_ROOM / MOTE_MSG_MALFORMED (other type, NUL/CR/LF in text).
 */
int64_t mote_msg_encode_text(void *buf, uint64_t cap, int type, const char *text, uint32_t text_len);

/*
 * The byte rules the codec applies, for callers that check before they
 * encode (an SDK refusing a bad header at once, a gateway telling a bad
 * request from a full area): 1 when p[len] is a non-empty HTTP token, or
 * (mote_msg_is_line) holds no NUL, CR or LF; else 0.
 */
int mote_msg_is_token(const char *p, uint64_t len);
int mote_msg_is_line(const char *p, uint64_t len);

/* A short name for a result code, e.g. "truncated". */
const char *mote_msg_strerror(int result);

#endif /* MOTE_INVOKE_MSG_H */
