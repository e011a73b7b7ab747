/* OCI images on disk: reading a base image archive, writing oci:DIR, oci-archive and docker-archive. */
#include "oci_image.h"

#include <archive.h>
#include <archive_entry.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "status.h"

#define OCI_MT_MANIFEST "application/vnd.oci.image.manifest.v1+json"
#define OCI_MT_INDEX "application/vnd.oci.image.index.v1+json"
#define OCI_MT_CONFIG "application/vnd.oci.image.config.v1+json"
#define DOCKER_MT_LAYER_GZIP "application/vnd.docker.image.rootfs.diff.tar.gzip"
#define DOCKER_MT_LAYER_TAR "application/vnd.docker.image.rootfs.diff.tar"

int oci_image_init(struct oci_image *img, struct mote_err *err)
{
	*img = (struct oci_image){0};
	img->config = json_pack("{s:s, s:s, s:{}, s:{s:s, s:[]}}", "architecture", "amd64", "os", "linux",
				"config", "rootfs", "type", "layers", "diff_ids");
	img->annotations = json_object();
	if (!img->config || !img->annotations) {
		oci_image_free(img);
		return mote_errf(err, MOTE_STATUS_HOST, "out of memory");
	}
	return 0;
}

void oci_image_free(struct oci_image *img)
{
	json_decref(img->config);
	json_decref(img->annotations);
	free(img->layers);
	*img = (struct oci_image){0};
}

int oci_image_add_layer(struct oci_image *img, const struct oci_image_layer *layer, struct mote_err *err)
{
	struct oci_image_layer *v = realloc(img->layers, (img->nlayers + 1) * sizeof(*v));
	if (!v)
		return mote_errf(err, MOTE_STATUS_HOST, "out of memory");
	img->layers = v;
	img->layers[img->nlayers++] = *layer;
	return 0;
}

/* ---- loading ---------------------------------------------------------------------------------------- */

struct member {
	char *name; /* normalized: no leading "./" or "/" */
	char path[PATH_MAX];
};

struct members {
	struct member *v;
	size_t n;
};

static void members_free(struct members *m)
{
	for (size_t i = 0; i < m->n; i++)
		free(m->v[i].name);
	free(m->v);
}

static const char *member_path(const struct members *m, const char *name)
{
	while (name[0] == '.' && name[1] == '/')
		name += 2;
	for (size_t i = 0; i < m->n; i++)
		if (!strcmp(m->v[i].name, name))
			return m->v[i].path;
	return NULL;
}

/* Extract every regular file of archive `path` into tmpdir (as tmpdir/base-N). */
static int extract_members(const char *path, const char *tmpdir, struct members *m, struct mote_err *err)
{
	struct archive *a = archive_read_new();
	if (!a)
		return mote_errf(err, MOTE_STATUS_HOST, "out of memory");
	archive_read_support_format_tar(a);
	archive_read_support_format_gnutar(a);
	archive_read_support_filter_gzip(a);
	int rc = -1;
	if (archive_read_open_filename(a, path, 65536) != ARCHIVE_OK) {
		mote_errf(err, MOTE_STATUS_BUILD_INPUT, "FROM %s: %s", path, archive_error_string(a));
		goto out;
	}
	for (;;) {
		struct archive_entry *e;
		int r = archive_read_next_header(a, &e);
		if (r == ARCHIVE_EOF)
			break;
		if (r < ARCHIVE_WARN) {
			mote_errf(err, MOTE_STATUS_BUILD_INPUT, "FROM %s: not an image archive (%s)", path,
				  archive_error_string(a));
			goto out;
		}
		if (archive_entry_filetype(e) != AE_IFREG || !archive_entry_pathname(e))
			continue;
		struct member *v = realloc(m->v, (m->n + 1) * sizeof(*v));
		if (!v) {
			mote_errf(err, MOTE_STATUS_HOST, "out of memory");
			goto out;
		}
		m->v = v;
		const char *name = archive_entry_pathname(e);
		while (name[0] == '.' && name[1] == '/')
			name += 2;
		while (name[0] == '/')
			name++;
		struct member *mb = &m->v[m->n];
		mb->name = strdup(name);
		snprintf(mb->path, sizeof(mb->path), "%s/base-%zu", tmpdir, m->n);
		if (!mb->name) {
			mote_errf(err, MOTE_STATUS_HOST, "out of memory");
			goto out;
		}
		m->n++;
		int fd = open(mb->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
		if (fd < 0) {
			mote_errnof(err, MOTE_STATUS_HOST, errno, "%s", mb->path);
			goto out;
		}
		r = archive_read_data_into_fd(a, fd);
		if (close(fd) < 0 || r != ARCHIVE_OK) {
			mote_errf(err, MOTE_STATUS_BUILD_INPUT, "FROM %s: %s: %s", path, name,
				  r != ARCHIVE_OK ? archive_error_string(a) : "write failed");
			goto out;
		}
	}
	rc = 0;
out:
	archive_read_free(a);
	return rc;
}

static json_t *load_json(const char *path, const char *image, const char *what, struct mote_err *err)
{
	json_error_t je;
	json_t *j = json_load_file(path, 0, &je);
	if (!j)
		mote_errf(err, MOTE_STATUS_BUILD_INPUT, "FROM %s: %s: invalid JSON (%s)", image, what,
			  je.text);
	return j;
}

/* The blob of digest "sha256:<hex>" in an OCI layout, checked against its digest. */
static const char *oci_blob(const struct members *m, const char *digest, const char *image,
			    struct mote_err *err)
{
	char name[128];
	if (!digest || strncmp(digest, "sha256:", 7) || strlen(digest) != 71 || strchr(digest + 7, '/')) {
		mote_errf(err, MOTE_STATUS_BUILD_INPUT, "FROM %s: bad digest %s", image,
			  digest ? digest : "(none)");
		return NULL;
	}
	snprintf(name, sizeof(name), "blobs/sha256/%s", digest + 7);
	const char *p = member_path(m, name);
	if (!p) {
		mote_errf(err, MOTE_STATUS_BUILD_INPUT, "FROM %s: blob %s is missing", image, digest);
		return NULL;
	}
	struct oci_blob b;
	if (oci_digest_file(p, &b, err) < 0)
		return NULL;
	if (strcmp(b.digest, digest)) {
		mote_errf(err, MOTE_STATUS_BUILD_INPUT, "FROM %s: blob %s has digest %s", image, digest,
			  b.digest);
		return NULL;
	}
	return p;
}

static int is_gzip(const char *path)
{
	unsigned char magic[2] = {0};
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0;
	ssize_t r = read(fd, magic, 2);
	close(fd);
	return r == 2 && magic[0] == 0x1f && magic[1] == 0x8b;
}

/* Fill in a base layer from its file, computing the diff_id (decompressing gzip into tmpdir). */
static int base_layer(struct oci_image *img, const char *file, const char *tmpdir, const char *image,
		      struct mote_err *err)
{
	struct oci_image_layer l = {0};
	if (oci_digest_file(file, &l.blob, err) < 0)
		return -1;
	if (is_gzip(file)) {
		snprintf(l.media_type, sizeof(l.media_type), "%s", OCI_MT_LAYER_GZIP);
		snprintf(l.tar_path, sizeof(l.tar_path), "%s/baselayer-%zu.tar", tmpdir, img->nlayers);
		struct oci_blob tar;
		if (oci_gzip_file(file, l.tar_path, 1, &tar, err) < 0)
			return -1;
		memcpy(l.diff_id, tar.digest, sizeof(l.diff_id));
	} else {
		snprintf(l.media_type, sizeof(l.media_type), "%s", OCI_MT_LAYER_TAR);
		snprintf(l.tar_path, sizeof(l.tar_path), "%s", file);
		memcpy(l.diff_id, l.blob.digest, sizeof(l.diff_id));
	}
	(void)image;
	return oci_image_add_layer(img, &l, err);
}

/* Check that the config's diff_ids are the layers' and keep the config. */
static int adopt_config(struct oci_image *img, json_t *config, const char *image, struct mote_err *err)
{
	json_t *ids = json_object_get(json_object_get(config, "rootfs"), "diff_ids");
	if (!json_is_array(ids) || json_array_size(ids) != img->nlayers)
		return mote_errf(err, MOTE_STATUS_BUILD_INPUT,
				 "FROM %s: the config's rootfs.diff_ids do not match its %zu layers", image,
				 img->nlayers);
	for (size_t i = 0; i < img->nlayers; i++) {
		const char *id = json_string_value(json_array_get(ids, i));
		if (!id || strcmp(id, img->layers[i].diff_id))
			return mote_errf(err, MOTE_STATUS_BUILD_INPUT,
					 "FROM %s: layer %zu's content has digest %s, the config says %s",
					 image, i + 1, img->layers[i].diff_id, id ? id : "(none)");
	}
	const char *arch = json_string_value(json_object_get(config, "architecture"));
	if (arch && strcmp(arch, "amd64"))
		return mote_errf(err, MOTE_STATUS_BUILD_INPUT,
				 "FROM %s: architecture %s: mote runs amd64 programs", image, arch);
	json_decref(img->config);
	img->config = json_incref(config);
	if (!json_is_object(json_object_get(config, "config")))
		json_object_set_new(config, "config", json_object());
	json_object_del(config, "history");
	return 0;
}

int oci_image_load(const char *path, const char *tmpdir, struct oci_image *img, struct mote_err *err)
{
	struct members m = {0};
	json_t *index = NULL, *manifest = NULL, *config = NULL;
	int rc = -1;
	if (oci_image_init(img, err) < 0)
		return -1;
	if (extract_members(path, tmpdir, &m, err) < 0)
		goto out;
	const char *p;
	if ((p = member_path(&m, "index.json"))) {
		if (!(index = load_json(p, path, "index.json", err)))
			goto out;
		json_t *desc = json_array_get(json_object_get(index, "manifests"), 0);
		const char *mt = json_string_value(json_object_get(desc, "mediaType"));
		if (!desc || (mt && strcmp(mt, OCI_MT_MANIFEST))) {
			mote_errf(err, MOTE_STATUS_BUILD_INPUT,
				  "FROM %s: index.json's first manifest is not an OCI image manifest (%s)",
				  path, mt ? mt : "none");
			goto out;
		}
		const char *mp = oci_blob(&m, json_string_value(json_object_get(desc, "digest")), path, err);
		if (!mp || !(manifest = load_json(mp, path, "the manifest", err)))
			goto out;
		const char *cp = oci_blob(
		    &m, json_string_value(json_object_get(json_object_get(manifest, "config"), "digest")),
		    path, err);
		if (!cp || !(config = load_json(cp, path, "the config", err)))
			goto out;
		json_t *layers = json_object_get(manifest, "layers"), *l;
		size_t i;
		json_array_foreach(layers, i, l)
		{
			const char *lmt = json_string_value(json_object_get(l, "mediaType"));
			if (!lmt || (strcmp(lmt, OCI_MT_LAYER_GZIP) && strcmp(lmt, OCI_MT_LAYER_TAR) &&
				     strcmp(lmt, DOCKER_MT_LAYER_GZIP) && strcmp(lmt, DOCKER_MT_LAYER_TAR))) {
				mote_errf(err, MOTE_STATUS_BUILD_INPUT,
					  "FROM %s: layer %zu has media type %s (tar or tar+gzip only)", path,
					  i + 1, lmt ? lmt : "(none)");
				goto out;
			}
			const char *lp =
			    oci_blob(&m, json_string_value(json_object_get(l, "digest")), path, err);
			if (!lp || base_layer(img, lp, tmpdir, path, err) < 0)
				goto out;
		}
		json_t *ann = json_object_get(manifest, "annotations");
		if (json_is_object(ann))
			json_object_update(img->annotations, ann);
	} else if ((p = member_path(&m, "manifest.json"))) {
		if (!(manifest = load_json(p, path, "manifest.json", err)))
			goto out;
		json_t *first = json_array_get(manifest, 0);
		const char *cname = json_string_value(json_object_get(first, "Config"));
		const char *cp = cname ? member_path(&m, cname) : NULL;
		if (!cp) {
			mote_errf(err, MOTE_STATUS_BUILD_INPUT,
				  "FROM %s: manifest.json names no config file in the archive", path);
			goto out;
		}
		if (!(config = load_json(cp, path, cname, err)))
			goto out;
		json_t *l;
		size_t i;
		json_array_foreach(json_object_get(first, "Layers"), i, l)
		{
			const char *ln = json_string_value(l);
			const char *lp = ln ? member_path(&m, ln) : NULL;
			if (!lp) {
				mote_errf(err, MOTE_STATUS_BUILD_INPUT, "FROM %s: layer %s is missing", path,
					  ln ? ln : "(none)");
				goto out;
			}
			if (base_layer(img, lp, tmpdir, path, err) < 0)
				goto out;
		}
	} else {
		mote_errf(err, MOTE_STATUS_BUILD_INPUT,
			  "FROM %s: not an image archive (neither index.json nor manifest.json in it)", path);
		goto out;
	}
	if (adopt_config(img, config, path, err) < 0)
		goto out;
	rc = 0;
out:
	json_decref(index);
	json_decref(manifest);
	json_decref(config);
	members_free(&m);
	if (rc < 0)
		oci_image_free(img);
	return rc;
}

/* Normalize a tar member name for comparison. */
static const char *strip_name(const char *n)
{
	while (n[0] == '.' && n[1] == '/')
		n += 2;
	while (n[0] == '/')
		n++;
	return n;
}

int oci_image_read_file(const struct oci_image *img, const char *path, void **data, size_t *len,
			struct mote_err *err)
{
	path = strip_name(path);
	char wh[PATH_MAX];
	char *dup = strdup(path), *dup2 = strdup(path);
	if (!dup || !dup2) {
		free(dup);
		free(dup2);
		return mote_errf(err, MOTE_STATUS_HOST, "out of memory");
	}
	const char *dir = dirname(dup), *base = basename(dup2);
	if (!strcmp(dir, "."))
		snprintf(wh, sizeof(wh), ".wh.%s", base);
	else
		snprintf(wh, sizeof(wh), "%s/.wh.%s", dir, base);
	free(dup);
	free(dup2);
	for (size_t k = img->nlayers; k-- > 0;) {
		const struct oci_image_layer *l = &img->layers[k];
		struct archive *a = archive_read_new();
		archive_read_support_format_tar(a);
		archive_read_support_format_gnutar(a);
		archive_read_support_filter_gzip(a);
		const char *file = l->tar_path[0] ? l->tar_path : l->blob.path;
		if (archive_read_open_filename(a, file, 65536) != ARCHIVE_OK) {
			archive_read_free(a);
			return mote_errf(err, MOTE_STATUS_BUILD_INPUT, "base layer %zu: cannot read", k + 1);
		}
		struct archive_entry *e;
		int found = 0;
		while (archive_read_next_header(a, &e) == ARCHIVE_OK) {
			const char *n = archive_entry_pathname(e);
			if (!n)
				continue;
			n = strip_name(n);
			if (!strcmp(n, wh)) {
				found = -1;
				break;
			}
			if (strcmp(n, path))
				continue;
			if (archive_entry_filetype(e) != AE_IFREG) {
				found = -2;
				break;
			}
			int64_t size = archive_entry_size(e);
			char *buf = malloc(size > 0 ? (size_t)size : 1);
			if (!buf || archive_read_data(a, buf, (size_t)size) != size) {
				free(buf);
				archive_read_free(a);
				return mote_errf(err, MOTE_STATUS_BUILD_INPUT,
						 "base layer %zu: /%s: cannot read", k + 1, path);
			}
			*data = buf;
			*len = (size_t)size;
			found = 1;
			break;
		}
		archive_read_free(a);
		if (found == 1)
			return 1;
		if (found < 0)
			return 0;
	}
	return 0;
}

/* ---- writing ---------------------------------------------------------------------------------------- */

static char *dump(const json_t *j)
{
	return json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENSURE_ASCII);
}

/* The manifest, config and index documents of an image. */
struct docs {
	char *config, *manifest, *index;
	char config_digest[72], manifest_digest[72];
};

static void docs_free(struct docs *d)
{
	free(d->config);
	free(d->manifest);
	free(d->index);
}

static int make_docs(const struct oci_image *img, const char *ref, struct docs *d, struct mote_err *err)
{
	*d = (struct docs){0};
	json_t *layers = json_array(), *man = NULL, *idx = NULL;
	json_t *ids = json_array();
	json_t *cfg = json_deep_copy(img->config);
	int rc = -1;
	if (!layers || !ids || !cfg)
		goto oom;
	for (size_t i = 0; i < img->nlayers; i++) {
		const struct oci_image_layer *l = &img->layers[i];
		json_array_append_new(layers,
				      json_pack("{s:s, s:s, s:I}", "mediaType", l->media_type, "digest",
						l->blob.digest, "size", (json_int_t)l->blob.size));
		json_array_append_new(ids, json_string(l->diff_id));
	}
	json_t *rootfs = json_pack("{s:s, s:o}", "type", "layers", "diff_ids", ids);
	ids = NULL;
	if (!rootfs || json_object_set_new(cfg, "rootfs", rootfs) < 0)
		goto oom;
	if (!(d->config = dump(cfg)))
		goto oom;
	oci_digest_bytes(d->config, strlen(d->config), d->config_digest);
	man = json_pack("{s:i, s:s, s:{s:s, s:s, s:I}, s:O, s:O}", "schemaVersion", 2, "mediaType",
			OCI_MT_MANIFEST, "config", "mediaType", OCI_MT_CONFIG, "digest", d->config_digest,
			"size", (json_int_t)strlen(d->config), "layers", layers, "annotations",
			img->annotations);
	if (!man || !(d->manifest = dump(man)))
		goto oom;
	oci_digest_bytes(d->manifest, strlen(d->manifest), d->manifest_digest);
	idx = json_pack("{s:i, s:s, s:[{s:s, s:s, s:I, s:{s:s, s:s}}]}", "schemaVersion", 2, "mediaType",
			OCI_MT_INDEX, "manifests", "mediaType", OCI_MT_MANIFEST, "digest", d->manifest_digest,
			"size", (json_int_t)strlen(d->manifest), "annotations",
			"org.opencontainers.image.ref.name", ref, "io.containerd.image.name", ref);
	if (!idx || !(d->index = dump(idx)))
		goto oom;
	rc = 0;
	goto out;
oom:
	mote_errf(err, MOTE_STATUS_HOST, "out of memory");
out:
	json_decref(layers);
	json_decref(ids);
	json_decref(cfg);
	json_decref(man);
	json_decref(idx);
	if (rc < 0)
		docs_free(d);
	return rc;
}

/* A tar archive being written (the outer archive of oci-archive and docker-archive). */
struct tarw {
	struct archive *a;
	struct archive_entry *e;
	int64_t mtime;
};

static int tarw_header(struct tarw *w, const char *name, int type, int64_t size, struct mote_err *err)
{
	archive_entry_clear(w->e);
	archive_entry_set_pathname(w->e, name);
	archive_entry_set_filetype(w->e, (unsigned)type);
	archive_entry_set_perm(w->e, type == AE_IFDIR ? 0755 : 0644);
	archive_entry_set_mtime(w->e, w->mtime, 0);
	if (type == AE_IFREG)
		archive_entry_set_size(w->e, size);
	if (archive_write_header(w->a, w->e) < ARCHIVE_WARN)
		return mote_errf(err, MOTE_STATUS_IMAGE_WRITE, "%s: %s", name, archive_error_string(w->a));
	return 0;
}

static int tarw_bytes(struct tarw *w, const char *name, const char *data, struct mote_err *err)
{
	size_t len = strlen(data);
	if (tarw_header(w, name, AE_IFREG, (int64_t)len, err) < 0)
		return -1;
	if (len && archive_write_data(w->a, data, len) != (la_ssize_t)len)
		return mote_errf(err, MOTE_STATUS_IMAGE_WRITE, "%s: %s", name, archive_error_string(w->a));
	return 0;
}

static int tarw_file(struct tarw *w, const char *name, const char *path, struct mote_err *err)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0 || fstat(fd, &st) < 0) {
		if (fd >= 0)
			close(fd);
		return mote_errnof(err, MOTE_STATUS_IMAGE_WRITE, errno, "%s", path);
	}
	if (tarw_header(w, name, AE_IFREG, st.st_size, err) < 0) {
		close(fd);
		return -1;
	}
	static char buf[65536];
	int64_t left = st.st_size;
	while (left > 0) {
		ssize_t r = read(fd, buf, sizeof(buf));
		if (r <= 0 || archive_write_data(w->a, buf, (size_t)r) != r) {
			close(fd);
			return mote_errf(err, MOTE_STATUS_IMAGE_WRITE, "%s: cannot copy %s", name, path);
		}
		left -= r;
	}
	close(fd);
	return 0;
}

/* Write the archive's members (kind OCI_OUT_ARCHIVE or OCI_OUT_DOCKER_ARCHIVE). */
static int write_members(struct tarw *w, const struct oci_image *img, const struct docs *d, const char *ref,
			 enum oci_output kind, const char *tmpdir, struct mote_err *err)
{
	char name[256];
	if (kind == OCI_OUT_ARCHIVE) {
		/* sorted: blobs/, blobs/sha256/, blobs/sha256/<hex>..., index.json, oci-layout */
		const char *hexes[3] = {d->config_digest + 7, d->manifest_digest + 7, NULL};
		if (tarw_header(w, "blobs/", AE_IFDIR, 0, err) < 0 ||
		    tarw_header(w, "blobs/sha256/", AE_IFDIR, 0, err) < 0)
			return -1;
		size_t n = img->nlayers + 2;
		const char **names = calloc(n, sizeof(*names));
		const char **srcs = calloc(n, sizeof(*srcs)); /* file path, or NULL: the document itself */
		if (!names || !srcs) {
			free(names);
			free(srcs);
			return mote_errf(err, MOTE_STATUS_HOST, "out of memory");
		}
		names[0] = hexes[0];
		names[1] = hexes[1];
		for (size_t i = 0; i < img->nlayers; i++) {
			names[i + 2] = img->layers[i].blob.digest + 7;
			srcs[i + 2] = img->layers[i].blob.path;
		}
		/* selection sort of a handful of names, skipping duplicates (a layer used twice) */
		int rc = 0;
		const char *last = "";
		for (size_t done = 0; done < n && !rc; done++) {
			size_t best = n;
			for (size_t i = 0; i < n; i++)
				if (strcmp(names[i], last) > 0 &&
				    (best == n || strcmp(names[i], names[best]) < 0))
					best = i;
			if (best == n)
				break;
			last = names[best];
			snprintf(name, sizeof(name), "blobs/sha256/%s", names[best]);
			if (best == 0)
				rc = tarw_bytes(w, name, d->config, err);
			else if (best == 1)
				rc = tarw_bytes(w, name, d->manifest, err);
			else
				rc = tarw_file(w, name, srcs[best], err);
		}
		free(names);
		free(srcs);
		if (rc < 0)
			return -1;
		if (tarw_bytes(w, "index.json", d->index, err) < 0 ||
		    tarw_bytes(w, "oci-layout", "{\"imageLayoutVersion\":\"1.0.0\"}", err) < 0)
			return -1;
		return 0;
	}
	/* docker-archive: <config hex>.json, <diff_id hex>/layer.tar, manifest.json, repositories */
	json_t *layers = json_array();
	snprintf(name, sizeof(name), "%s.json", d->config_digest + 7);
	if (!layers || tarw_bytes(w, name, d->config, err) < 0) {
		json_decref(layers);
		return -1;
	}
	for (size_t i = 0; i < img->nlayers; i++) {
		const struct oci_image_layer *l = &img->layers[i];
		char tar[PATH_MAX];
		const char *src = l->tar_path;
		if (!src[0]) {
			snprintf(tar, sizeof(tar), "%s/out-layer-%zu.tar", tmpdir, i);
			struct oci_blob b;
			if (oci_gzip_file(l->blob.path, tar, 1, &b, err) < 0) {
				json_decref(layers);
				return -1;
			}
			src = tar;
		}
		int dup = 0;
		for (size_t k = 0; k < i; k++)
			dup |= !strcmp(img->layers[k].diff_id, l->diff_id);
		snprintf(name, sizeof(name), "%s/layer.tar", l->diff_id + 7);
		json_array_append_new(layers, json_string(name));
		if (dup)
			continue;
		snprintf(name, sizeof(name), "%s/", l->diff_id + 7);
		if (tarw_header(w, name, AE_IFDIR, 0, err) < 0) {
			json_decref(layers);
			return -1;
		}
		snprintf(name, sizeof(name), "%s/layer.tar", l->diff_id + 7);
		if (tarw_file(w, name, src, err) < 0) {
			json_decref(layers);
			return -1;
		}
	}
	snprintf(name, sizeof(name), "%s.json", d->config_digest + 7);
	json_t *man = json_pack("[{s:s, s:[s], s:o}]", "Config", name, "RepoTags", ref, "Layers", layers);
	char *mtext = man ? dump(man) : NULL;
	json_decref(man);
	/* repositories: {"name": {"tag": "<top layer id>"}} */
	char repo[512];
	snprintf(repo, sizeof(repo), "%s", ref);
	char *colon = strrchr(repo, ':');
	if (colon && strchr(colon, '/'))
		colon = NULL;
	if (colon)
		*colon = 0;
	json_t *reps = json_pack("{s:{s:s}}", repo, colon ? colon + 1 : "latest",
				 img->nlayers ? img->layers[img->nlayers - 1].diff_id + 7 : "");
	char *rtext = reps ? dump(reps) : NULL;
	json_decref(reps);
	int rc = -1;
	if (!mtext || !rtext)
		mote_errf(err, MOTE_STATUS_HOST, "out of memory");
	else if (tarw_bytes(w, "manifest.json", mtext, err) == 0 &&
		 tarw_bytes(w, "repositories", rtext, err) == 0)
		rc = 0;
	free(mtext);
	free(rtext);
	return rc;
}

static int write_file_bytes(const char *path, const char *data, struct mote_err *err)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0)
		return mote_errnof(err, MOTE_STATUS_IMAGE_WRITE, errno, "%s", path);
	size_t len = strlen(data), off = 0;
	while (off < len) {
		ssize_t w = write(fd, data + off, len - off);
		if (w <= 0) {
			close(fd);
			return mote_errnof(err, MOTE_STATUS_IMAGE_WRITE, w < 0 ? errno : EIO, "%s", path);
		}
		off += (size_t)w;
	}
	if (close(fd) < 0)
		return mote_errnof(err, MOTE_STATUS_IMAGE_WRITE, errno, "%s", path);
	return 0;
}

static int copy_file(const char *from, const char *to, struct mote_err *err)
{
	if (link(from, to) == 0)
		return 0;
	int in = open(from, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return mote_errnof(err, MOTE_STATUS_IMAGE_WRITE, errno, "%s", from);
	int out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (out < 0) {
		close(in);
		return mote_errnof(err, MOTE_STATUS_IMAGE_WRITE, errno, "%s", to);
	}
	static char buf[65536];
	ssize_t r;
	int rc = 0;
	while ((r = read(in, buf, sizeof(buf))) > 0)
		if (write(out, buf, (size_t)r) != r) {
			rc = mote_errnof(err, MOTE_STATUS_IMAGE_WRITE, errno, "%s", to);
			break;
		}
	if (r < 0 && !rc)
		rc = mote_errnof(err, MOTE_STATUS_IMAGE_WRITE, errno, "%s", from);
	close(in);
	if (close(out) < 0 && !rc)
		rc = mote_errnof(err, MOTE_STATUS_IMAGE_WRITE, errno, "%s", to);
	return rc;
}

static void remove_tree(const char *dir)
{
	pid_t pid = fork();
	if (pid == 0) {
		execlp("rm", "rm", "-rf", "--", dir, (char *)NULL);
		_exit(127);
	}
	if (pid > 0) {
		int st;
		while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
			;
	}
}

/* Write the OCI layout into a new directory beside dest, then move it into place. */
static int write_dir(const struct oci_image *img, const struct docs *d, const char *dest,
		     struct mote_err *err)
{
	char tmp[PATH_MAX], path[PATH_MAX + 160];
	struct stat st;
	if (lstat(dest, &st) == 0) {
		snprintf(path, sizeof(path), "%s/oci-layout", dest);
		if (!S_ISDIR(st.st_mode) || access(path, F_OK) < 0)
			return mote_errf(err, MOTE_STATUS_IMAGE_WRITE,
					 "output oci:%s exists and is not an OCI image layout: not replaced",
					 dest);
	}
	if (snprintf(tmp, sizeof(tmp), "%s.tmp-XXXXXX", dest) >= (int)sizeof(tmp) || !mkdtemp(tmp))
		return mote_errnof(err, MOTE_STATUS_IMAGE_WRITE, errno, "cannot create a directory beside %s",
				   dest);
	int rc = -1;
	snprintf(path, sizeof(path), "%s/blobs", tmp);
	if (mkdir(path, 0755) < 0)
		goto fail_errno;
	snprintf(path, sizeof(path), "%s/blobs/sha256", tmp);
	if (mkdir(path, 0755) < 0)
		goto fail_errno;
	snprintf(path, sizeof(path), "%s/blobs/sha256/%s", tmp, d->config_digest + 7);
	if (write_file_bytes(path, d->config, err) < 0)
		goto fail;
	snprintf(path, sizeof(path), "%s/blobs/sha256/%s", tmp, d->manifest_digest + 7);
	if (write_file_bytes(path, d->manifest, err) < 0)
		goto fail;
	for (size_t i = 0; i < img->nlayers; i++) {
		snprintf(path, sizeof(path), "%s/blobs/sha256/%s", tmp, img->layers[i].blob.digest + 7);
		if (access(path, F_OK) == 0)
			continue;
		if (copy_file(img->layers[i].blob.path, path, err) < 0)
			goto fail;
	}
	snprintf(path, sizeof(path), "%s/index.json", tmp);
	if (write_file_bytes(path, d->index, err) < 0)
		goto fail;
	snprintf(path, sizeof(path), "%s/oci-layout", tmp);
	if (write_file_bytes(path, "{\"imageLayoutVersion\":\"1.0.0\"}", err) < 0)
		goto fail;
	if (chmod(tmp, 0755) < 0)
		goto fail_errno;
	if (rename(tmp, dest) == 0)
		return 0;
	if (errno != ENOTEMPTY && errno != EEXIST)
		goto fail_errno;
	/* replace the old layout: exchange the two, then remove the old one */
	if (renameat2(AT_FDCWD, tmp, AT_FDCWD, dest, RENAME_EXCHANGE) < 0)
		goto fail_errno;
	remove_tree(tmp);
	return 0;
fail_errno:
	rc = mote_errnof(err, MOTE_STATUS_IMAGE_WRITE, errno, "output oci:%s", dest);
fail:
	remove_tree(tmp);
	return rc;
}

static la_ssize_t fd_write_cb(struct archive *a, void *ctx, const void *buf, size_t len)
{
	int fd = *(int *)ctx;
	size_t off = 0;
	while (off < len) {
		ssize_t w = write(fd, (const char *)buf + off, len - off);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			archive_set_error(a, w < 0 ? errno : EIO, "write failed: %s",
					  strerror(w < 0 ? errno : EIO));
			return -1;
		}
		off += (size_t)w;
	}
	return (la_ssize_t)len;
}

int oci_image_write(const struct oci_image *img, const char *ref, enum oci_output kind, const char *dest,
		    const char *tmpdir, int64_t mtime, char manifest_digest[7 + 64 + 1], struct mote_err *err)
{
	struct docs d;
	if (make_docs(img, ref, &d, err) < 0)
		return -1;
	int rc = -1;
	if (kind == OCI_OUT_DIR) {
		rc = write_dir(img, &d, dest, err);
		goto out;
	}
	char tmp[PATH_MAX];
	if (snprintf(tmp, sizeof(tmp), "%s.tmp-XXXXXX", dest) >= (int)sizeof(tmp)) {
		mote_errf(err, MOTE_STATUS_IMAGE_WRITE, "output %s: path too long", dest);
		goto out;
	}
	int fd = mkostemp(tmp, O_CLOEXEC);
	if (fd < 0) {
		mote_errnof(err, MOTE_STATUS_IMAGE_WRITE, errno, "output %s", dest);
		goto out;
	}
	struct tarw w = {.a = archive_write_new(), .e = archive_entry_new(), .mtime = mtime};
	if (!w.a || !w.e || archive_write_set_format_pax_restricted(w.a) != ARCHIVE_OK ||
	    archive_write_open(w.a, &fd, NULL, fd_write_cb, NULL) != ARCHIVE_OK) {
		mote_errf(err, MOTE_STATUS_IMAGE_WRITE, "output %s: %s", dest,
			  w.a ? archive_error_string(w.a) : "out of memory");
	} else if (write_members(&w, img, &d, ref, kind, tmpdir, err) == 0) {
		if (archive_write_close(w.a) != ARCHIVE_OK)
			mote_errf(err, MOTE_STATUS_IMAGE_WRITE, "output %s: %s", dest,
				  archive_error_string(w.a));
		else
			rc = 0;
	}
	archive_entry_free(w.e);
	archive_write_free(w.a);
	if (rc == 0 && (fchmod(fd, 0644) < 0 || fsync(fd) < 0))
		rc = mote_errnof(err, MOTE_STATUS_IMAGE_WRITE, errno, "output %s", dest);
	if (close(fd) < 0 && rc == 0)
		rc = mote_errnof(err, MOTE_STATUS_IMAGE_WRITE, errno, "output %s", dest);
	if (rc == 0 && rename(tmp, dest) < 0)
		rc = mote_errnof(err, MOTE_STATUS_IMAGE_WRITE, errno, "output %s", dest);
	if (rc < 0)
		unlink(tmp);
out:
	if (rc == 0)
		memcpy(manifest_digest, d.manifest_digest, 72);
	docs_free(&d);
	return rc;
}
