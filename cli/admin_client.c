/* The CLI's side of the admin API: one call to `mote serve`, its JSON, and its errors mapped to exit
 * statuses. */
#include "admin_client.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "err.h"
#include "statedir.h"
#include "status.h"

void admin_call(const char *server, const char *method, const char *target, const void *body, size_t body_len,
		const char *const *headers, size_t nheaders, struct mote_http_response *res)
{
	struct mote_err err = {0};
	char sock[PATH_MAX];
	if (mote_admin_socket(server, sock, sizeof(sock), &err) < 0)
		mote_err_exit("mote", &err);
	struct mote_http_request req = {.method = method,
					.target = target,
					.headers = headers,
					.nheaders = nheaders,
					.body = body,
					.body_len = body_len};
	if (mote_http_call(sock, &req, res, &err) < 0)
		mote_err_exit("mote", &err);
}

json_t *admin_json(const struct mote_http_response *res)
{
	return json_loadb(res->body, res->body_len, 0, NULL);
}

static const struct {
	const char *code;
	int status;
} codes[] = {
    {"bad_request", MOTE_STATUS_USAGE},
    {"bad_name", MOTE_STATUS_USAGE},
    {"bad_method", MOTE_STATUS_USAGE},
    {"not_found", MOTE_STATUS_USAGE},
    {"no_function", MOTE_STATUS_NO_FUNCTION},
    {"too_big", MOTE_STATUS_TOO_BIG},
    {"bad_bundle", MOTE_STATUS_ROOTFS},
    {"no_handler", MOTE_STATUS_NOT_FOUND},
    {"not_elf", MOTE_STATUS_NOT_ELF},
    {"dynamic_elf", MOTE_STATUS_DYNAMIC},
    {"unsupported_elf", MOTE_STATUS_UNSUPPORTED},
    {"native_addon", MOTE_STATUS_UNSUPPORTED},
    {"init_error", MOTE_STATUS_BUNDLE_REFUSED},
    {"no_file", MOTE_STATUS_NOT_FOUND},
    {"unknown_base", MOTE_STATUS_NO_BASE},
    {"base_failed", MOTE_STATUS_BASE_FAILED},
};

int admin_runtime_known(const char *name)
{
	return !strcmp(name, "c") || !strcmp(name, "lua") || !strcmp(name, "node");
}

int admin_code_status(const char *code)
{
	for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++)
		if (code && !strcmp(codes[i].code, code))
			return codes[i].status;
	return MOTE_STATUS_SERVER_ERROR;
}

void admin_fail(const char *what, const struct mote_http_response *res)
{
	json_t *j = admin_json(res);
	const char *msg = j ? json_string_value(json_object_get(j, "error")) : NULL;
	const char *code = j ? json_string_value(json_object_get(j, "code")) : NULL;
	if (!code && res->head.status == 413)
		code = "too_big";
	int status = admin_code_status(code);
	if (msg)
		fprintf(stderr, "mote: %s: %s\n", what, msg);
	else if (res->head.status == 413)
		fprintf(stderr,
			"mote: %s: the bundle is larger than the server accepts (mote serve --bundle-max)\n",
			what);
	else
		fprintf(stderr, "mote: %s: the server answered HTTP %d\n", what, res->head.status);
	json_decref(j);
	exit(status);
}

int url_escape(const char *s, char *out, size_t size, size_t *len)
{
	static const char hex[] = "0123456789ABCDEF";
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		int plain = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
			    c == '-' || c == '_' || c == '.' || c == '~';
		if (*len + 4 > size)
			return -1;
		if (plain) {
			out[(*len)++] = (char)c;
		} else {
			out[(*len)++] = '%';
			out[(*len)++] = hex[c >> 4];
			out[(*len)++] = hex[c & 15];
		}
	}
	out[*len] = 0;
	return 0;
}
