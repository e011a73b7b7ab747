/* Unit test of gateway/registry.c: function rows and versions, durability across reopening, names, bases. */
// gateway-modules: gateway/registry.c
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "registry.h"

#include "check.h"

static char tmp[] = "/tmp/mote-test-registry.XXXXXX";
static char db[300];

static struct reg_function fn(const char *name, const char *bundle)
{
	struct reg_function f;
	memset(&f, 0, sizeof(f));
	snprintf(f.name, sizeof(f.name), "%s", name);
	snprintf(f.runtime, sizeof(f.runtime), "lua");
	snprintf(f.bundle, sizeof(f.bundle), "%s", bundle);
	f.bundle_size = 123;
	f.mem = 64ull << 20;
	f.timeout_ms = 500;
	f.max_vms = 3;
	snprintf(f.env, sizeof(f.env), "[\"A=1\"]");
	return f;
}

struct seen {
	char names[8][64];
	int64_t versions[8];
	struct reg_function last;
	int n;
};

static int collect(const struct reg_function *f, void *arg)
{
	struct seen *s = arg;
	if (s->n < 8) {
		snprintf(s->names[s->n], sizeof(s->names[0]), "%s", f->name);
		s->versions[s->n] = f->version;
	}
	s->last = *f;
	s->n++;
	return 0;
}

static void test_names(void)
{
	static const char *const good[] = {"a", "hello", "hello-world", "x_1", "0abc", "A-Z"};
	static const char *const bad[] = {
	    "",	   "-a",  "_a", "a.b",
	    "a/b", "a b", "é",	"a234567890123456789012345678901234567890123456789012345678901234"};
	int ok = 1;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		ok &= registry_name_valid(good[i], strlen(good[i]));
	check("names-valid", ok, "a good name was refused");
	ok = 1;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ok &= !registry_name_valid(bad[i], strlen(bad[i]));
	check("names-invalid", ok, "a bad name was accepted");
	check("name-63-ok",
	      registry_name_valid("a23456789012345678901234567890123456789012345678901234567890123", 63),
	      "63 characters refused");
}

static void test_functions(void)
{
	struct mote_err err = {0};
	struct registry *reg = registry_open(db, &err);
	check("open", reg != NULL, "%s", err.msg);
	if (!reg)
		return;
	struct reg_function a = fn("beta", "h1"), b = fn("alpha", "h2");
	int r1 = registry_put_function(reg, &a, &err);
	int64_t v1 = a.version;
	int r2 = registry_put_function(reg, &a, &err);
	check("versions-count-up", r1 == 0 && r2 == 0 && v1 == 1 && a.version == 2 && a.deployed_at > 0,
	      "versions %lld then %lld (%s)", (long long)v1, (long long)a.version, err.msg);
	registry_put_function(reg, &b, &err);
	struct seen s = {0};
	registry_each_function(reg, collect, &s, &err);
	check("list-sorted",
	      s.n == 2 && !strcmp(s.names[0], "alpha") && !strcmp(s.names[1], "beta") && s.versions[1] == 2,
	      "%d rows: %s %s", s.n, s.names[0], s.names[1]);
	check("bundle-in-use",
	      registry_bundle_in_use(reg, "h1") && registry_bundle_in_use(reg, "h2") &&
		  !registry_bundle_in_use(reg, "h3"),
	      "in-use answers wrong");
	check("delete",
	      registry_delete_function(reg, "beta", &err) == 1 &&
		  registry_delete_function(reg, "beta", &err) == 0,
	      "delete answers wrong");
	check("deleted-bundle-free", !registry_bundle_in_use(reg, "h1"), "h1 still in use");
	registry_put_function(reg, &a, &err);
	check("versions-never-reused", a.version == 3, "version %lld after delete", (long long)a.version);
	check("base", registry_put_base(reg, "id1", "lua", 64ull << 20, "k", "r", &err) == 0, "%s", err.msg);
	registry_close(reg);

	/* Everything is there after reopening, with every field. */
	reg = registry_open(db, &err);
	memset(&s, 0, sizeof(s));
	registry_each_function(reg, collect, &s, &err);
	struct reg_function *l = &s.last;
	check("durable",
	      s.n == 2 && !strcmp(l->name, "beta") && l->version == 3 && !strcmp(l->runtime, "lua") &&
		  !strcmp(l->bundle, "h1") && l->bundle_size == 123 && l->mem == (64ull << 20) &&
		  l->timeout_ms == 500 && l->max_vms == 3 && !strcmp(l->env, "[\"A=1\"]"),
	      "%d rows, last %s v%lld", s.n, l->name, (long long)l->version);
	registry_close(reg);

	sqlite3 *raw;
	sqlite3_stmt *st;
	sqlite3_open(db, &raw);
	sqlite3_prepare_v2(raw, "PRAGMA journal_mode", -1, &st, NULL);
	int wal = sqlite3_step(st) == SQLITE_ROW && !strcmp((const char *)sqlite3_column_text(st, 0), "wal");
	sqlite3_finalize(st);
	sqlite3_prepare_v2(raw, "SELECT COUNT(*) FROM versions WHERE name = 'beta'", -1, &st, NULL);
	int hist = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int(st, 0) : -1;
	sqlite3_finalize(st);
	sqlite3_close(raw);
	check("wal-journal", wal, "journal_mode is not wal");
	check("version-history", hist == 3, "%d history rows for beta", hist);

	char bad[300];
	snprintf(bad, sizeof(bad), "%s/no/such/dir/registry.db", tmp);
	check("open-fails-with-line", registry_open(bad, &err) == NULL && strstr(err.msg, bad), "%s",
	      err.msg);
}

int main(void)
{
	if (!mkdtemp(tmp))
		return 2;
	snprintf(db, sizeof(db), "%s/registry.db", tmp);
	test_names();
	test_functions();
	char cmd[100];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmp);
	return system(cmd) == 0 && !failures ? 0 : 1;
}
