/* Unit test of the Lua runtime's glue (runtimes/lua/glue.c): loading handler.lua, request tables, results,
 * errors. */
#include <fcntl.h>
#include <lauxlib.h>
#include <lua.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "channel.h"
#include "glue.h"
#include "invoke_msg.h"

#include "check.h"
#include "fake_invoke.h"

static char dir[] = "/tmp/mote-test-lua.XXXXXX";

static void write_file(const char *name, const char *text)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	FILE *f = fopen(path, "w");
	if (!f) {
		perror(path);
		exit(2);
	}
	fputs(text, f);
	fclose(f);
}

/* A fresh state with handler.lua = src loaded; NULL (why filled) when loading fails. */
static lua_State *load(const char *src, char *why, size_t len)
{
	write_file("handler.lua", src);
	lua_State *L = glue_new_state();
	if (glue_load_handler(L, dir, why, len) < 0) {
		lua_close(L);
		return NULL;
	}
	return L;
}

/* Run stderr into a file for the duration of fn; returns what was written (static buffer). */
static char captured[8192];
static void capture_begin(int *saved)
{
	fflush(stderr);
	*saved = dup(2);
	char path[256];
	snprintf(path, sizeof(path), "%s/stderr", dir);
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	dup2(fd, 2);
	close(fd);
}
static const char *capture_end(int saved)
{
	fflush(stderr);
	dup2(saved, 2);
	close(saved);
	char path[256];
	snprintf(path, sizeof(path), "%s/stderr", dir);
	FILE *f = fopen(path, "r");
	size_t n = f ? fread(captured, 1, sizeof(captured) - 1, f) : 0;
	captured[n] = 0;
	if (f)
		fclose(f);
	return captured;
}

static void test_load_errors(void)
{
	char why[1024];
	int saved;
	struct {
		const char *name, *src, *want;
	} cases[] = {
	    {"lua-syntax-error", "x = = 1\n", "handler.lua:1: unexpected symbol near '='"},
	    {"lua-runtime-error-at-load", "local t = nil\nlocal x = t.field\n",
	     "handler.lua:2: attempt to index a nil value"},
	    {"lua-no-handle", "function other() end\n", "handler.lua defines no function handle(req)"},
	    {"lua-handle-not-function", "handle = 5\n", "handler.lua defines no function handle(req)"},
	    {"lua-error-object-table", "error({})\n", "table: "},
	    {"lua-require-missing", "require('nope')\n", "module 'nope' not found"},
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		why[0] = 0;
		capture_begin(&saved);
		lua_State *L = load(cases[i].src, why, sizeof(why));
		capture_end(saved);
		check(cases[i].name, !L && strstr(why, cases[i].want) != NULL, "got '%s'",
		      L ? "(loaded)" : why);
		if (L)
			lua_close(L);
	}
	char path[256];
	snprintf(path, sizeof(path), "%s/handler.lua", dir);
	unlink(path);
	lua_State *L = glue_new_state();
	int r = glue_load_handler(L, dir, why, sizeof(why));
	check("lua-missing-handler-file", r < 0 && strstr(why, "cannot read handler.lua: No such file"),
	      "got '%s'", why);
	lua_close(L);
}

/* Call handle via glue_handle on a request; decode the response into *s (views into out). */
static int call(lua_State *L, const char *method, const char *path, const char *query,
		const char *const *headers, const void *body, size_t blen, struct channel_buf *out,
		struct mote_msg_response *s)
{
	size_t len;
	uint8_t *m = fake_request(method, path, query, headers, body, blen, &len);
	struct mote_msg_request req;
	int r = mote_msg_decode_request(m, len, &req);
	if (r == 0) {
		out->len = 0;
		r = glue_handle(L, &req, out);
	}
	free(m);
	if (r == 0)
		r = mote_msg_decode_response(out->data, out->len, s);
	return r;
}

static int header_is(const struct mote_msg_response *s, int index, const char *name, const char *value)
{
	uint64_t cursor = 0;
	struct mote_msg_header h;
	for (int i = 0; mote_msg_next_header(s->headers, s->headers_len, &cursor, &h); i++)
		if (i == index)
			return h.name_len == strlen(name) && memcmp(h.name, name, h.name_len) == 0 &&
			       h.value_len == strlen(value) && memcmp(h.value, value, h.value_len) == 0;
	return 0;
}

static int body_is(const struct mote_msg_response *s, const char *want)
{
	return s->body_len == strlen(want) && memcmp(s->body, want, s->body_len) == 0;
}

static void test_requests_and_results(void)
{
	char why[1024];
	write_file("util.lua", "local M = {}\nfunction M.greet(n) return 'hi ' .. n end\nreturn M\n");
	mkdir(strcat(strcpy(why, dir), "/pkg"), 0755);
	write_file("pkg/init.lua", "return { answer = 42 }\n");
	const char *src =
	    "#!/usr/bin/env lua\n"
	    "local util = require('util')\n"
	    "local pkg = require('pkg')\n"
	    "local count = 0\n"
	    "function handle(req)\n"
	    "  count = count + 1\n"
	    "  local p = req.path\n"
	    "  if p == '/echo' then\n"
	    "    return req.method .. ' ' .. req.path .. ' ' .. req.query .. ' ' .. (req.headers['x-multi'] "
	    "or 'nil')\n"
	    "      .. ' ' .. (req.headers['user-agent'] or 'nil') .. ' ' .. "
	    "tostring(req.headers['User-Agent']) .. ' ' .. #req.body\n"
	    "  elseif p == '/body' then return {body = req.body}\n"
	    "  elseif p == '/table' then\n"
	    "    return {status = 201, headers = {['content-type'] = 'application/json', ['x-n'] = 7,\n"
	    "            ['set-cookie'] = {'a=1', 'b=2'}}, body = '{\"n\":' .. count .. '}'}\n"
	    "  elseif p == '/status-float' then return {status = 404.0}\n"
	    "  elseif p == '/number-body' then return {body = 12.5}\n"
	    "  elseif p == '/module' then return util.greet('there') .. ' ' .. pkg.answer\n"
	    "  elseif p == '/error' then error('boom')\n"
	    "  elseif p == '/error-table' then error(setmetatable({}, {__tostring = function() return "
	    "'custom' end}))\n"
	    "  elseif p == '/nil' then return nil\n"
	    "  elseif p == '/bool' then return true\n"
	    "  elseif p == '/bad-status' then return {status = 99}\n"
	    "  elseif p == '/big-status' then return {status = 600}\n"
	    "  elseif p == '/frac-status' then return {status = 200.5}\n"
	    "  elseif p == '/string-status' then return {status = '200'}\n"
	    "  elseif p == '/bad-header-name' then return {headers = {['a b'] = 'x'}}\n"
	    "  elseif p == '/bad-header-key' then return {headers = {'x'}}\n"
	    "  elseif p == '/bad-header-value' then return {headers = {a = 'x\\r\\nInjected: 1'}}\n"
	    "  elseif p == '/bad-header-type' then return {headers = {a = true}}\n"
	    "  elseif p == '/bad-header-list' then return {headers = {a = {'ok', {}}}}\n"
	    "  elseif p == '/bad-headers' then return {headers = 'x'}\n"
	    "  elseif p == '/bad-body' then return {body = {}}\n"
	    "  elseif p == '/replace' then handle = 1 return 'replaced'\n"
	    "  end\n"
	    "  return {status = 404}\n"
	    "end\n";
	lua_State *L = load(src, why, sizeof(why));
	check("lua-load-with-modules-and-shebang", L != NULL, "load failed: %s", why);
	if (!L)
		return;
	struct channel_buf out = {0};
	struct mote_msg_response s;
	const char *hdrs[] = {"User-Agent", "curl/8", "X-Multi", "1", "x-multi", "2", "X-MULTI", "3", NULL};
	uint8_t body[5] = {'a', 0, 'b', '\n', 0xff};

	int r = call(L, "POST", "/echo", "a=1&b", hdrs, body, sizeof(body), &out, &s);
	check("lua-request-table",
	      r == 0 && s.status == 200 && header_is(&s, 0, "content-type", "text/plain; charset=utf-8") &&
		  body_is(&s, "POST /echo a=1&b 1, 2, 3 curl/8 nil 5"),
	      "result %d status %u body '%.*s'", r, s.status, (int)s.body_len, s.body);
	r = call(L, "PUT", "/body", "", NULL, body, sizeof(body), &out, &s);
	check("lua-binary-body-round-trip",
	      r == 0 && s.body_len == sizeof(body) && memcmp(s.body, body, sizeof(body)) == 0 &&
		  s.nheaders == 0,
	      "result %d, %llu bytes", r, (unsigned long long)s.body_len);
	r = call(L, "GET", "/table", "", NULL, NULL, 0, &out, &s);
	int hok = s.nheaders == 4;
	/* Table order is unspecified: find each header. */
	const char *want[4][2] = {
	    {"content-type", "application/json"}, {"x-n", "7"}, {"set-cookie", "a=1"}, {"set-cookie", "b=2"}};
	for (int w = 0; w < 4 && hok; w++) {
		int found = 0;
		for (int i = 0; i < 4; i++)
			found |= header_is(&s, i, want[w][0], want[w][1]);
		hok = found;
	}
	check("lua-table-result", r == 0 && s.status == 201 && hok && body_is(&s, "{\"n\":3}"),
	      "result %d status %u headers %u body '%.*s'", r, s.status, s.nheaders, (int)s.body_len, s.body);
	r = call(L, "GET", "/status-float", "", NULL, NULL, 0, &out, &s);
	check("lua-status-integral-float", r == 0 && s.status == 404 && s.body_len == 0,
	      "result %d status %u", r, s.status);
	r = call(L, "GET", "/number-body", "", NULL, NULL, 0, &out, &s);
	check("lua-number-body", r == 0 && body_is(&s, "12.5"), "result %d", r);
	r = call(L, "GET", "/module", "", NULL, NULL, 0, &out, &s);
	check("lua-require-from-bundle", r == 0 && body_is(&s, "hi there 42"), "result %d body '%.*s'", r,
	      (int)s.body_len, s.body);

	struct {
		const char *path, *log;
	} bad[] = {
	    {"/error", "handle(req) failed: handler.lua:"},
	    {"/error-table", "handle(req) failed: custom"},
	    {"/nil", "returned a nil"},
	    {"/bool", "returned a boolean"},
	    {"/bad-status", "status must be an integer from 100 to 599, not 99"},
	    {"/big-status", "not 600"},
	    {"/frac-status", "not 200.5"},
	    {"/string-status", "not 200"},
	    {"/bad-header-name", "header name \"a b\" is not an HTTP token"},
	    {"/bad-header-key", "a header name is a number"},
	    {"/bad-header-value", "headers[\"a\"] contains CR, LF or NUL"},
	    {"/bad-header-type", "headers[\"a\"] is a boolean"},
	    {"/bad-header-list", "headers[\"a\"] is a table"},
	    {"/bad-headers", "headers is a string"},
	    {"/bad-body", "body is a table"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		int saved;
		capture_begin(&saved);
		int top = lua_gettop(L);
		r = call(L, "GET", bad[i].path, "", NULL, NULL, 0, &out, &s);
		int balanced = lua_gettop(L) == top;
		const char *log = capture_end(saved);
		char name[80];
		snprintf(name, sizeof(name), "lua-refused%s", bad[i].path);
		for (char *c = name; *c; c++)
			*c = *c == '/' ? '-' : *c;
		check(name,
		      r == -1 && strstr(log, bad[i].log) && strncmp(log, "mote-lua: ", 10) == 0 && balanced,
		      "result %d, log '%s'", r, log);
	}
	int saved;
	capture_begin(&saved);
	call(L, "GET", "/error", "", NULL, NULL, 0, &out, &s);
	const char *log = capture_end(saved);
	check("lua-error-traceback-logged",
	      strstr(log, "boom") && strstr(log, "stack traceback:") && strstr(log, "in function 'handle'"),
	      "log '%s'", log);

	/* handle replaced by a non-function: the next requests are 500 with a log line, never a crash. */
	r = call(L, "GET", "/replace", "", NULL, NULL, 0, &out, &s);
	capture_begin(&saved);
	int r2 = call(L, "GET", "/echo", "", NULL, NULL, 0, &out, &s);
	log = capture_end(saved);
	check("lua-handle-replaced",
	      r == 0 && r2 == -1 &&
		  strstr(log, "handle(req) failed: the global handle is a number, no longer a function"),
	      "results %d %d log '%s'", r, r2, log);
	channel_buf_free(&out);
	lua_close(L);
}

/* Results encoded directly: the string form, and a stack left balanced. */
static void test_encode_direct(void)
{
	lua_State *L = glue_new_state();
	struct channel_buf out = {0};
	char why[256];
	lua_pushliteral(L, "plain");
	int r = glue_encode_result(L, -1, &out, why, sizeof(why));
	struct mote_msg_response s;
	int d = r == 0 ? mote_msg_decode_response(out.data, out.len, &s) : -1;
	check("lua-encode-string",
	      r == 0 && d == 0 && s.status == 200 && body_is(&s, "plain") && lua_gettop(L) == 1,
	      "result %d decode %d top %d", r, d, lua_gettop(L));
	lua_settop(L, 0);
	if (luaL_dostring(L, "return {headers = {}}") != LUA_OK)
		lua_pushnil(L);
	r = glue_encode_result(L, -1, &out, why, sizeof(why));
	d = r == 0 ? mote_msg_decode_response(out.data, out.len, &s) : -1;
	check("lua-encode-empty-table",
	      r == 0 && d == 0 && s.status == 200 && s.nheaders == 0 && s.body_len == 0,
	      "result %d decode %d", r, d);
	/* A large body (1 MiB) encodes whole. */
	if (luaL_dostring(L, "return {body = string.rep('x', 1 << 20)}") != LUA_OK)
		lua_pushnil(L);
	r = glue_encode_result(L, -1, &out, why, sizeof(why));
	d = r == 0 ? mote_msg_decode_response(out.data, out.len, &s) : -1;
	check("lua-encode-1mib-body", r == 0 && d == 0 && s.body_len == 1u << 20, "result %d decode %d", r,
	      d);
	channel_buf_free(&out);
	lua_close(L);
}

/* Every clone must not share the base's math.random sequence: loading reseeds it. */
static void test_reseed(void)
{
	char why[256];
	const char *src =
	    "first = math.random(1, 1 << 50)\nfunction handle(req) return tostring(first) end\n";
	lua_State *a = load(src, why, sizeof(why)), *b = load(src, why, sizeof(why));
	long long x = -1, y = -1;
	if (a && b) {
		lua_getglobal(a, "first");
		lua_getglobal(b, "first");
		x = (long long)lua_tointeger(a, -1);
		y = (long long)lua_tointeger(b, -1);
	}
	check("lua-random-reseeded", a && b && x != y, "both states drew %lld", x);
	if (a)
		lua_close(a);
	if (b)
		lua_close(b);
}

/* The whole loop on the fake device: request in, handle(req), response out. */
static void test_serve(void)
{
	char why[256];
	lua_State *L = load("function handle(req) return {status = 202, body = req.method .. req.path} end\n",
			    why, sizeof(why));
	struct fake_invoke f;
	fake_init(&f, 1 << 20);
	size_t len;
	uint8_t *m = fake_request("DELETE", "/x/y", "", NULL, NULL, 0, &len);
	fake_push(&f, m, len);
	fake_push(&f, m, len);
	free(m);
	struct channel ch;
	channel_init_io(&ch, GLUE_NAME, &fake_io, &f);
	int r = L ? channel_serve(&ch, glue_handle, L) : -1;
	struct mote_msg_response s;
	int ok = r == 0 && f.nsent == 3;
	for (int i = 1; ok && i < 3; i++)
		ok = mote_msg_decode_response(f.sent[i], f.sent_len[i], &s) == 0 && s.status == 202 &&
		     body_is(&s, "DELETE/x/y");
	check("lua-serve-loop", ok, "result %d, %d messages", r, f.nsent);
	channel_close(&ch);
	fake_free(&f);
	if (L)
		lua_close(L);
}

int main(void)
{
	if (!mkdtemp(dir)) {
		perror("mkdtemp");
		return 2;
	}
	test_load_errors();
	test_requests_and_results();
	test_encode_direct();
	test_reseed();
	test_serve();
	char cmd[300];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
	return failures ? 1 : 0;
}
