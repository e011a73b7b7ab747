/* libFuzzer target: oci_spec_parse (config.json) and oci_image_from (the mote/urunc annotations) on arbitrary
 * text. */
// oci-modules: oci/spec.c
#include <stdint.h>
#include <string.h>

#include "spec.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct oci_spec s;
	struct mote_err err = {0};
	if (oci_spec_parse((const char *)data, size, &s, &err) < 0) {
		/* A refusal always says why, with one of the parser's statuses. */
		if (!err.msg[0] || err.status < OCI_STATUS_BAD_JSON || err.status > OCI_STATUS_BAD_CONFIG)
			__builtin_trap();
		return 0;
	}
	if (s.nargs < 1 || !s.args[0] || s.args[s.nargs] || !s.root_path || !s.cwd || s.cwd[0] != '/')
		__builtin_trap();
	struct oci_image img;
	/* The same annotations as config.json's and as the rootfs file's: both paths of the merge. */
	if (oci_image_from(s.annotations, NULL, &img, &err) == 0 &&
	    (img.mem < (16ull << 20) || (img.program && img.program[0] != '/')))
		__builtin_trap();
	json_t *a = json_object_get(s.doc, "annotations");
	(void)oci_image_from(NULL, a, &img, &err);
	oci_spec_free(&s);
	return 0;
}
