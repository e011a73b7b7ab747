/* Unit test of gateway/registry.c: function rows and versions, durability across reopening, names, bases
 * (states, activation and rollback, one active per runtime, the old bases table dropped). */
// gateway-modules: gateway/registry.c
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "registry.h"
#include "status.h"

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

static struct reg_base base(const char *id, const char *runtime, enum reg_base_state state)
{
	struct reg_base b;
	memset(&b, 0, sizeof(b));
	snprintf(b.id, sizeof(b.id), "%s", id);
	snprintf(b.runtime, sizeof(b.runtime), "%s", runtime);
	snprintf(b.kernel_path, sizeof(b.kernel_path), "/k/%s", id);
	snprintf(b.kernel_sha256, sizeof(b.kernel_sha256), "ks-%s", id);
	snprintf(b.program_path, sizeof(b.program_path), "/p/%s", id);
	snprintf(b.program_sha256, sizeof(b.program_sha256), "ps-%s", id);
	b.created_at = 1000;
	b.state = state;
	return b;
}

struct bases_seen {
	struct reg_base b[8];
	int n;
};

static int collect_base(const struct reg_base *b, void *arg)
{
	struct bases_seen *s = arg;
	if (s->n < 8)
		s->b[s->n] = *b;
	s->n++;
	return 0;
}

/* The row of `id` as the registry has it now (state -1 when absent). */
static struct reg_base row_of(struct registry *reg, const char *id)
{
	struct bases_seen s = {0};
	struct mote_err err = {0};
	registry_each_base(reg, collect_base, &s, &err);
	for (int i = 0; i < s.n && i < 8; i++)
		if (!strcmp(s.b[i].id, id))
			return s.b[i];
	struct reg_base none;
	memset(&none, 0, sizeof(none));
	none.state = (enum reg_base_state) - 1;
	return none;
}

static void test_bases(void)
{
	char path[300];
	snprintf(path, sizeof(path), "%s/bases.db", tmp);
	/* A registry of an earlier mote: one row per runtime and memory size. Its bases table is dropped. */
	sqlite3 *raw;
	sqlite3_open(path, &raw);
	int made =
	    sqlite3_exec(
		raw,
		"CREATE TABLE bases (id TEXT PRIMARY KEY, runtime TEXT NOT NULL, mem INTEGER NOT NULL,"
		" kernel_sha256 TEXT NOT NULL, runtime_sha256 TEXT NOT NULL, built_at INTEGER NOT NULL);"
		"INSERT INTO bases VALUES ('old', 'lua', 67108864, 'k', 'r', 1);",
		NULL, NULL, NULL) == SQLITE_OK;
	sqlite3_close(raw);
	struct mote_err err = {0};
	struct registry *reg = registry_open(path, &err);
	struct bases_seen s = {0};
	if (reg)
		registry_each_base(reg, collect_base, &s, &err);
	check("bases-old-table-dropped", made && reg && s.n == 0, "%s; %d rows", err.msg, s.n);
	if (!reg)
		return;

	struct reg_base a = base("aaaa", "lua", REG_BASE_BUILDING), b = base("bbbb", "lua", REG_BASE_READY),
			c = base("cccc", "c", REG_BASE_READY);
	char prev[REG_HASH_HEX + 1] = "x";
	check("base-put",
	      registry_put_base(reg, &a, &err) == 0 && registry_put_base(reg, &b, &err) == 0 &&
		  registry_put_base(reg, &c, &err) == 0,
	      "%s", err.msg);
	int r = registry_activate_base(reg, "aaaa", prev, &err);
	check("base-building-not-activated",
	      r < 0 && err.status == MOTE_STATUS_NO_BASE && row_of(reg, "aaaa").state == REG_BASE_BUILDING,
	      "activate of a building base returned %d (%s)", r, err.msg);
	r = registry_activate_base(reg, "nosuch", prev, &err);
	check("base-unknown-not-activated",
	      r < 0 && err.status == MOTE_STATUS_NO_BASE && strstr(err.msg, "nosuch"), "returned %d (%s)", r,
	      err.msg);

	a.state = REG_BASE_READY;
	registry_put_base(reg, &a, &err);
	r = registry_activate_base(reg, "aaaa", prev, &err);
	struct reg_base ra = row_of(reg, "aaaa");
	check("base-first-activation",
	      r == 0 && prev[0] == 0 && ra.state == REG_BASE_ACTIVE && ra.activated_at > 0,
	      "returned %d (%s), previous '%s', state %d", r, err.msg, prev, (int)ra.state);
	r = registry_activate_base(reg, "bbbb", prev, &err);
	ra = row_of(reg, "aaaa");
	struct reg_base rb = row_of(reg, "bbbb");
	check("base-switch",
	      r == 0 && !strcmp(prev, "aaaa") && rb.state == REG_BASE_ACTIVE &&
		  ra.state == REG_BASE_RETIRED && ra.deactivated_at >= ra.activated_at &&
		  ra.deactivated_at > 0,
	      "returned %d, previous '%s', states %d %d", r, prev, (int)ra.state, (int)rb.state);
	r = registry_activate_base(reg, "cccc", prev, &err);
	check("base-runtimes-independent",
	      r == 0 && prev[0] == 0 && row_of(reg, "bbbb").state == REG_BASE_ACTIVE &&
		  row_of(reg, "cccc").state == REG_BASE_ACTIVE,
	      "activating the c base changed the lua one (previous '%s')", prev);
	r = registry_activate_base(reg, "aaaa", prev, &err);
	check("base-rollback",
	      r == 0 && !strcmp(prev, "bbbb") && row_of(reg, "aaaa").state == REG_BASE_ACTIVE &&
		  row_of(reg, "bbbb").state == REG_BASE_RETIRED,
	      "returned %d, previous '%s'", r, prev);
	r = registry_activate_base(reg, "aaaa", prev, &err);
	check("base-activate-active-again",
	      r == 0 && prev[0] == 0 && row_of(reg, "aaaa").state == REG_BASE_ACTIVE,
	      "returned %d, previous '%s'", r, prev);
	/* At most one active base per runtime, whatever writes the rows. */
	struct reg_base d = base("dddd", "lua", REG_BASE_ACTIVE);
	check("base-one-active-per-runtime",
	      registry_put_base(reg, &d, &err) < 0 && row_of(reg, "dddd").state == (enum reg_base_state) - 1,
	      "a second active lua base was recorded");
	check("base-delete",
	      registry_delete_base(reg, "bbbb", &err) == 0 &&
		  row_of(reg, "bbbb").state == (enum reg_base_state) - 1,
	      "%s", err.msg);
	registry_close(reg);

	reg = registry_open(path, &err);
	ra = row_of(reg, "aaaa");
	memset(&s, 0, sizeof(s));
	registry_each_base(reg, collect_base, &s, &err);
	check("base-durable",
	      s.n == 2 && ra.state == REG_BASE_ACTIVE && !strcmp(ra.runtime, "lua") &&
		  !strcmp(ra.kernel_path, "/k/aaaa") && !strcmp(ra.kernel_sha256, "ks-aaaa") &&
		  !strcmp(ra.program_path, "/p/aaaa") && !strcmp(ra.program_sha256, "ps-aaaa") &&
		  ra.created_at == 1000 && ra.activated_at > 0 && ra.deactivated_at > 0,
	      "%d rows; aaaa state %d", s.n, (int)ra.state);
	check("base-state-names",
	      !strcmp(registry_base_state_name(REG_BASE_BUILDING), "building") &&
		  !strcmp(registry_base_state_name(REG_BASE_ACTIVE), "active") &&
		  !strcmp(registry_base_state_name(REG_BASE_RETIRED), "retired"),
	      "names wrong");
	registry_close(reg);
}

int main(void)
{
	if (!mkdtemp(tmp))
		return 2;
	snprintf(db, sizeof(db), "%s/registry.db", tmp);
	test_names();
	test_functions();
	test_bases();
	char cmd[100];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tmp);
	return system(cmd) == 0 && !failures ? 0 : 1;
}
