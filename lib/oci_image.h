/* OCI images on disk: reading a base image archive, writing oci:DIR, oci-archive and docker-archive. */
#ifndef MOTE_OCI_IMAGE_H
#define MOTE_OCI_IMAGE_H

#include <jansson.h>
#include <stddef.h>

#include "err.h"
#include "oci_layer.h"

#define OCI_MT_LAYER_GZIP "application/vnd.oci.image.layer.v1.tar+gzip"
#define OCI_MT_LAYER_TAR "application/vnd.oci.image.layer.v1.tar"

struct oci_image_layer {
	struct oci_blob blob;	  /* the layer as stored in the image (its path is a file on disk) */
	char media_type[96];	  /* OCI_MT_LAYER_GZIP or OCI_MT_LAYER_TAR */
	char diff_id[7 + 64 + 1]; /* digest of the uncompressed tar */
	char tar_path[4096];	  /* the uncompressed tar on disk, or "" when not at hand */
};

struct oci_image {
	json_t *config;	     /* the image config: architecture, os, config{Env,Cmd,...}, rootfs{diff_ids} */
	json_t *annotations; /* manifest annotations (an object) */
	struct oci_image_layer *layers;
	size_t nlayers;
};

/* An empty image (scratch): amd64/linux config with no layers. Returns 0 or -1 with err. */
int oci_image_init(struct oci_image *img, struct mote_err *err);
void oci_image_free(struct oci_image *img);

/* Append a layer (copied). Returns 0 or -1 with err when out of memory. */
int oci_image_add_layer(struct oci_image *img, const struct oci_image_layer *layer, struct mote_err *err);

/*
 * Load the image in archive `path` (an oci-archive with index.json, or a
 * docker-archive with manifest.json; the first image if it holds several)
 * into *img, extracting its blobs into directory `tmpdir`. Returns 0, or -1
 * with err set (MOTE_STATUS_BUILD_INPUT: missing, not an image archive,
 * digest mismatch, unsupported layer type).
 */
int oci_image_load(const char *path, const char *tmpdir, struct oci_image *img, struct mote_err *err);

/*
 * Find the regular file `path` in the image's layers (topmost first; a
 * whiteout hides it) and read it into a malloc'd buffer. Returns 1 found, 0
 * absent, -1 with err on a read error.
 */
int oci_image_read_file(const struct oci_image *img, const char *path, void **data, size_t *len,
			struct mote_err *err);

enum oci_output { OCI_OUT_DIR, OCI_OUT_ARCHIVE, OCI_OUT_DOCKER_ARCHIVE };

/*
 * Write the image as `kind` at `dest`, named `ref` (a full reference such as
 * "localhost/hello:latest"), with every file's mtime `mtime`. Scratch files
 * go to `tmpdir`. The output appears whole (written under a temporary name
 * beside dest and renamed) or not at all; an existing oci:DIR is replaced
 * only if it is an OCI layout. On success the manifest's digest is stored in
 * manifest_digest. Returns 0 or -1 with err (MOTE_STATUS_IMAGE_WRITE).
 */
int oci_image_write(const struct oci_image *img, const char *ref, enum oci_output kind, const char *dest,
		    const char *tmpdir, int64_t mtime, char manifest_digest[7 + 64 + 1],
		    struct mote_err *err);

#endif /* MOTE_OCI_IMAGE_H */
