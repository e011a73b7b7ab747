/* The registry of deployed functions, their versions and the base snapshots: SQLite in WAL mode, durable
 * commits. */
#include "registry.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>

#include <sqlite3.h>

#include "status.h"

struct registry {
	sqlite3 *db;
	char path[4096];
};

static const char schema[] =
    "CREATE TABLE IF NOT EXISTS functions ("
    "  name TEXT PRIMARY KEY, version INTEGER NOT NULL, runtime TEXT NOT NULL, bundle TEXT NOT NULL,"
    "  bundle_size INTEGER NOT NULL, mem INTEGER NOT NULL, timeout_ms INTEGER NOT NULL,"
    "  max_vms INTEGER NOT NULL, env TEXT NOT NULL, deployed_at INTEGER NOT NULL);"
    "CREATE TABLE IF NOT EXISTS versions ("
    "  name TEXT NOT NULL, version INTEGER NOT NULL, runtime TEXT NOT NULL, bundle TEXT NOT NULL,"
    "  deployed_at INTEGER NOT NULL, PRIMARY KEY (name, version));"
    "CREATE TABLE IF NOT EXISTS bases ("
    "  id TEXT PRIMARY KEY, runtime TEXT NOT NULL, kernel_path TEXT NOT NULL, kernel_sha256 TEXT NOT NULL,"
    "  program_path TEXT NOT NULL, program_sha256 TEXT NOT NULL, created_at INTEGER NOT NULL,"
    "  activated_at INTEGER NOT NULL, deactivated_at INTEGER NOT NULL, state INTEGER NOT NULL);"
    "CREATE UNIQUE INDEX IF NOT EXISTS bases_one_active ON bases (runtime) WHERE state = 2;";

/* Before bases were first-class (one row per runtime and memory size, with a mem column), the table only
 * recorded what bases/ held; those rows and directories are dropped (the gateway builds a base again). */
static const char drop_old_bases[] = "DROP TABLE IF EXISTS bases;";

int registry_name_valid(const char *name, size_t len)
{
	if (len == 0 || len > REG_NAME_MAX)
		return 0;
	for (size_t i = 0; i < len; i++) {
		char c = name[i];
		int alnum = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
		if (!alnum && (i == 0 || (c != '_' && c != '-')))
			return 0;
	}
	return 1;
}

static int db_error(struct registry *reg, struct mote_err *err, const char *what)
{
	return mote_errf(err, MOTE_STATUS_HOST, "registry %s: %s: %s", reg->path, what,
			 sqlite3_errmsg(reg->db));
}

static int64_t now_ms(void)
{
	struct timeval tv;
	gettimeofday(&tv, NULL);
	return (int64_t)tv.tv_sec * 1000 + tv.tv_usec / 1000;
}

/* Columns added after the first schema: added to an older database in place (its rows get the defaults). */
static const char *const added_columns[][2] = {
    {"idle_ms", "ALTER TABLE functions ADD COLUMN idle_ms INTEGER NOT NULL DEFAULT -1"},
    {"concurrency", "ALTER TABLE functions ADD COLUMN concurrency INTEGER NOT NULL DEFAULT 1"},
    {"cpu_quota_us", "ALTER TABLE functions ADD COLUMN cpu_quota_us INTEGER NOT NULL DEFAULT 0"},
    {"cpu_weight", "ALTER TABLE functions ADD COLUMN cpu_weight INTEGER NOT NULL DEFAULT 0"},
};

static int add_columns(struct registry *reg, char **msg)
{
	for (size_t i = 0; i < sizeof(added_columns) / sizeof(added_columns[0]); i++) {
		sqlite3_stmt *st;
		if (sqlite3_prepare_v2(reg->db, "SELECT 1 FROM pragma_table_info('functions') WHERE name = ?",
				       -1, &st, NULL) != SQLITE_OK)
			return -1;
		sqlite3_bind_text(st, 1, added_columns[i][0], -1, SQLITE_STATIC);
		int have = sqlite3_step(st) == SQLITE_ROW;
		sqlite3_finalize(st);
		if (!have && sqlite3_exec(reg->db, added_columns[i][1], NULL, NULL, msg) != SQLITE_OK)
			return -1;
	}
	return 0;
}

struct registry *registry_open(const char *path, struct mote_err *err)
{
	struct registry *reg = calloc(1, sizeof(*reg));
	if (!reg) {
		mote_errf(err, MOTE_STATUS_HOST, "out of memory");
		return NULL;
	}
	snprintf(reg->path, sizeof(reg->path), "%s", path);
	if (sqlite3_open_v2(path, &reg->db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
			    NULL) != SQLITE_OK) {
		db_error(reg, err, "cannot open");
		registry_close(reg);
		return NULL;
	}
	char *msg = NULL;
	if (sqlite3_exec(reg->db,
			 "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA busy_timeout=5000;", NULL,
			 NULL, &msg) != SQLITE_OK ||
	    (sqlite3_exec(reg->db, "SELECT mem FROM bases LIMIT 0", NULL, NULL, NULL) == SQLITE_OK &&
	     sqlite3_exec(reg->db, drop_old_bases, NULL, NULL, &msg) != SQLITE_OK) ||
	    sqlite3_exec(reg->db, schema, NULL, NULL, &msg) != SQLITE_OK || add_columns(reg, &msg) < 0) {
		mote_errf(err, MOTE_STATUS_HOST, "registry %s: %s", path, msg ? msg : "cannot set up");
		sqlite3_free(msg);
		registry_close(reg);
		return NULL;
	}
	return reg;
}

void registry_close(struct registry *reg)
{
	if (!reg)
		return;
	sqlite3_close(reg->db);
	free(reg);
}

static int exec(struct registry *reg, const char *sql)
{
	return sqlite3_exec(reg->db, sql, NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
}

int registry_put_function(struct registry *reg, struct reg_function *f, struct mote_err *err)
{
	sqlite3_stmt *st = NULL;
	if (exec(reg, "BEGIN IMMEDIATE") < 0)
		return db_error(reg, err, "begin");
	int64_t version = 1;
	if (sqlite3_prepare_v2(reg->db, "SELECT COALESCE(MAX(version), 0) + 1 FROM versions WHERE name = ?",
			       -1, &st, NULL) != SQLITE_OK)
		goto fail;
	sqlite3_bind_text(st, 1, f->name, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_ROW)
		goto fail;
	version = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	st = NULL;
	int64_t at = now_ms();

	if (sqlite3_prepare_v2(
		reg->db,
		"INSERT OR REPLACE INTO functions (name, version, runtime, bundle, bundle_size, mem,"
		" timeout_ms, max_vms, env, deployed_at, idle_ms, concurrency, cpu_quota_us, cpu_weight)"
		" VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
		-1, &st, NULL) != SQLITE_OK)
		goto fail;
	sqlite3_bind_text(st, 1, f->name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, version);
	sqlite3_bind_text(st, 3, f->runtime, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, f->bundle, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, (sqlite3_int64)f->bundle_size);
	sqlite3_bind_int64(st, 6, (sqlite3_int64)f->mem);
	sqlite3_bind_int64(st, 7, (sqlite3_int64)f->timeout_ms);
	sqlite3_bind_int64(st, 8, f->max_vms);
	sqlite3_bind_text(st, 9, f->env, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 10, at);
	sqlite3_bind_int64(st, 11, f->idle_ms);
	sqlite3_bind_int64(st, 12, f->concurrency ? f->concurrency : 1);
	sqlite3_bind_int64(st, 13, (sqlite3_int64)f->cpu_quota_us);
	sqlite3_bind_int64(st, 14, f->cpu_weight);
	if (sqlite3_step(st) != SQLITE_DONE)
		goto fail;
	sqlite3_finalize(st);
	st = NULL;

	if (sqlite3_prepare_v2(
		reg->db,
		"INSERT INTO versions (name, version, runtime, bundle, deployed_at) VALUES (?, ?, ?, ?, ?)",
		-1, &st, NULL) != SQLITE_OK)
		goto fail;
	sqlite3_bind_text(st, 1, f->name, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, version);
	sqlite3_bind_text(st, 3, f->runtime, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, f->bundle, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, at);
	if (sqlite3_step(st) != SQLITE_DONE)
		goto fail;
	sqlite3_finalize(st);
	st = NULL;
	if (exec(reg, "COMMIT") < 0)
		goto fail;
	f->version = version;
	f->deployed_at = at;
	return 0;
fail:
	db_error(reg, err, "cannot record the function");
	sqlite3_finalize(st);
	exec(reg, "ROLLBACK");
	return -1;
}

int registry_delete_function(struct registry *reg, const char *name, struct mote_err *err)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(reg->db, "DELETE FROM functions WHERE name = ?", -1, &st, NULL) != SQLITE_OK)
		return db_error(reg, err, "cannot delete");
	sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return db_error(reg, err, "cannot delete");
	return sqlite3_changes(reg->db) > 0;
}

static void copy_text(char *dst, size_t size, sqlite3_stmt *st, int col)
{
	const unsigned char *t = sqlite3_column_text(st, col);
	snprintf(dst, size, "%s", t ? (const char *)t : "");
}

int registry_each_function(struct registry *reg, int (*cb)(const struct reg_function *f, void *arg),
			   void *arg, struct mote_err *err)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(
		reg->db,
		"SELECT name, version, runtime, bundle, bundle_size, mem, timeout_ms, max_vms, env,"
		" deployed_at, idle_ms, concurrency, cpu_quota_us, cpu_weight FROM functions ORDER BY name",
		-1, &st, NULL) != SQLITE_OK)
		return db_error(reg, err, "cannot list functions");
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct reg_function f;
		memset(&f, 0, sizeof(f));
		copy_text(f.name, sizeof(f.name), st, 0);
		f.version = sqlite3_column_int64(st, 1);
		copy_text(f.runtime, sizeof(f.runtime), st, 2);
		copy_text(f.bundle, sizeof(f.bundle), st, 3);
		f.bundle_size = (uint64_t)sqlite3_column_int64(st, 4);
		f.mem = (uint64_t)sqlite3_column_int64(st, 5);
		f.timeout_ms = (uint64_t)sqlite3_column_int64(st, 6);
		f.max_vms = (uint32_t)sqlite3_column_int64(st, 7);
		copy_text(f.env, sizeof(f.env), st, 8);
		f.deployed_at = sqlite3_column_int64(st, 9);
		f.idle_ms = sqlite3_column_int64(st, 10);
		f.concurrency = (uint32_t)sqlite3_column_int64(st, 11);
		if (!f.concurrency)
			f.concurrency = 1;
		f.cpu_quota_us = (uint64_t)sqlite3_column_int64(st, 12);
		f.cpu_weight = (uint32_t)sqlite3_column_int64(st, 13);
		if (cb(&f, arg)) {
			rc = SQLITE_DONE;
			break;
		}
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return db_error(reg, err, "cannot list functions");
	return 0;
}

int registry_bundle_in_use(struct registry *reg, const char *hash)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(reg->db, "SELECT 1 FROM functions WHERE bundle = ? LIMIT 1", -1, &st, NULL) !=
	    SQLITE_OK)
		return 1; /* when in doubt, keep the file */
	sqlite3_bind_text(st, 1, hash, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc != SQLITE_DONE;
}

const char *registry_base_state_name(enum reg_base_state s)
{
	switch (s) {
	case REG_BASE_BUILDING: return "building";
	case REG_BASE_READY: return "ready";
	case REG_BASE_ACTIVE: return "active";
	case REG_BASE_RETIRED: return "retired";
	}
	return "?";
}

int registry_put_base(struct registry *reg, const struct reg_base *b, struct mote_err *err)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(
		reg->db,
		"INSERT INTO bases (id, runtime, kernel_path, kernel_sha256, program_path,"
		" program_sha256, created_at, activated_at, deactivated_at, state)"
		" VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET"
		" runtime = excluded.runtime, kernel_path = excluded.kernel_path,"
		" kernel_sha256 = excluded.kernel_sha256, program_path = excluded.program_path,"
		" program_sha256 = excluded.program_sha256, created_at = excluded.created_at,"
		" activated_at = excluded.activated_at, deactivated_at = excluded.deactivated_at,"
		" state = excluded.state",
		-1, &st, NULL) != SQLITE_OK)
		return db_error(reg, err, "cannot record the base");
	sqlite3_bind_text(st, 1, b->id, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, b->runtime, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, b->kernel_path, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, b->kernel_sha256, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 5, b->program_path, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 6, b->program_sha256, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 7, b->created_at);
	sqlite3_bind_int64(st, 8, b->activated_at);
	sqlite3_bind_int64(st, 9, b->deactivated_at);
	sqlite3_bind_int(st, 10, (int)b->state);
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : db_error(reg, err, "cannot record the base");
}

int registry_activate_base(struct registry *reg, const char *id, char previous[REG_HASH_HEX + 1],
			   struct mote_err *err)
{
	sqlite3_stmt *st = NULL;
	char runtime[8] = "", prev[REG_HASH_HEX + 1] = "";
	if (exec(reg, "BEGIN IMMEDIATE") < 0)
		return db_error(reg, err, "begin");
	if (sqlite3_prepare_v2(reg->db, "SELECT runtime, state FROM bases WHERE id = ?", -1, &st, NULL) !=
	    SQLITE_OK)
		goto fail;
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	if (rc != SQLITE_ROW || sqlite3_column_int(st, 1) == REG_BASE_BUILDING) {
		sqlite3_finalize(st);
		exec(reg, "ROLLBACK");
		return mote_errf(err, MOTE_STATUS_NO_BASE, "no built base %s", id);
	}
	copy_text(runtime, sizeof(runtime), st, 0);
	sqlite3_finalize(st);
	st = NULL;
	if (sqlite3_prepare_v2(reg->db, "SELECT id FROM bases WHERE runtime = ? AND state = 2", -1, &st,
			       NULL) != SQLITE_OK)
		goto fail;
	sqlite3_bind_text(st, 1, runtime, -1, SQLITE_STATIC);
	if (sqlite3_step(st) == SQLITE_ROW)
		copy_text(prev, sizeof(prev), st, 0);
	sqlite3_finalize(st);
	st = NULL;
	int64_t at = now_ms();
	if (prev[0] && strcmp(prev, id)) {
		if (sqlite3_prepare_v2(reg->db, "UPDATE bases SET state = 3, deactivated_at = ? WHERE id = ?",
				       -1, &st, NULL) != SQLITE_OK)
			goto fail;
		sqlite3_bind_int64(st, 1, at);
		sqlite3_bind_text(st, 2, prev, -1, SQLITE_STATIC);
		if (sqlite3_step(st) != SQLITE_DONE)
			goto fail;
		sqlite3_finalize(st);
		st = NULL;
	}
	if (sqlite3_prepare_v2(reg->db, "UPDATE bases SET state = 2, activated_at = ? WHERE id = ?", -1, &st,
			       NULL) != SQLITE_OK)
		goto fail;
	sqlite3_bind_int64(st, 1, at);
	sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
	if (sqlite3_step(st) != SQLITE_DONE)
		goto fail;
	sqlite3_finalize(st);
	st = NULL;
	if (exec(reg, "COMMIT") < 0)
		goto fail;
	if (previous)
		snprintf(previous, REG_HASH_HEX + 1, "%s", strcmp(prev, id) ? prev : "");
	return 0;
fail:
	db_error(reg, err, "cannot activate the base");
	sqlite3_finalize(st);
	exec(reg, "ROLLBACK");
	return -1;
}

int registry_each_base(struct registry *reg, int (*cb)(const struct reg_base *b, void *arg), void *arg,
		       struct mote_err *err)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(
		reg->db,
		"SELECT id, runtime, kernel_path, kernel_sha256, program_path, program_sha256,"
		" created_at, activated_at, deactivated_at, state FROM bases ORDER BY created_at, id",
		-1, &st, NULL) != SQLITE_OK)
		return db_error(reg, err, "cannot list bases");
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		struct reg_base b;
		memset(&b, 0, sizeof(b));
		copy_text(b.id, sizeof(b.id), st, 0);
		copy_text(b.runtime, sizeof(b.runtime), st, 1);
		copy_text(b.kernel_path, sizeof(b.kernel_path), st, 2);
		copy_text(b.kernel_sha256, sizeof(b.kernel_sha256), st, 3);
		copy_text(b.program_path, sizeof(b.program_path), st, 4);
		copy_text(b.program_sha256, sizeof(b.program_sha256), st, 5);
		b.created_at = sqlite3_column_int64(st, 6);
		b.activated_at = sqlite3_column_int64(st, 7);
		b.deactivated_at = sqlite3_column_int64(st, 8);
		b.state = (enum reg_base_state)sqlite3_column_int(st, 9);
		if (cb(&b, arg)) {
			rc = SQLITE_DONE;
			break;
		}
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE)
		return db_error(reg, err, "cannot list bases");
	return 0;
}

int registry_delete_base(struct registry *reg, const char *id, struct mote_err *err)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(reg->db, "DELETE FROM bases WHERE id = ?", -1, &st, NULL) != SQLITE_OK)
		return db_error(reg, err, "cannot forget the base");
	sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
	int rc = sqlite3_step(st);
	sqlite3_finalize(st);
	return rc == SQLITE_DONE ? 0 : db_error(reg, err, "cannot forget the base");
}
