#!/usr/bin/env python3
"""Check an OCI image layout directory (or a docker-archive directory) the way a loader would.

usage: oci_check.py oci DIR | docker DIR
Verifies every digest and size (index -> manifest -> config and layers), that the config's rootfs.diff_ids
are the digests of the uncompressed layers, and prints facts one per line for the test to grep:
  manifest DIGEST / config DIGEST / layer N DIGEST DIFF_ID / annotation K=V / label K=V / env K=V /
  entrypoint JSON / cmd JSON / workdir W / ref NAME / file N PATH TYPE MODE UID:GID SIZE [-> TARGET]
Exits 1 with a line "BAD: why" on the first inconsistency.
"""
import gzip, hashlib, io, json, os, sys, tarfile


def bad(why):
    print("BAD: " + why)
    sys.exit(1)


def sha(data):
    return "sha256:" + hashlib.sha256(data).hexdigest()


def blob(root, digest, size=None):
    if not digest.startswith("sha256:"):
        bad("digest %s is not sha256" % digest)
    path = os.path.join(root, "blobs", "sha256", digest[7:])
    if not os.path.exists(path):
        bad("blob %s missing" % digest)
    data = open(path, "rb").read()
    if sha(data) != digest:
        bad("blob %s has digest %s" % (digest, sha(data)))
    if size is not None and size != len(data):
        bad("blob %s has size %d, descriptor says %d" % (digest, len(data), size))
    return data


def list_layer(n, tar_bytes):
    with tarfile.open(fileobj=io.BytesIO(tar_bytes), mode="r:") as t:
        for m in t.getmembers():
            kind = "d" if m.isdir() else "l" if m.issym() else "f" if m.isfile() else "?"
            extra = " -> " + m.linkname if m.issym() else ""
            print("file %d /%s %s %o %d:%d %d mtime=%d%s" % (n, m.name, kind, m.mode, m.uid, m.gid, m.size, m.mtime, extra))


def facts_config(cfg, diff_ids):
    if cfg.get("rootfs", {}).get("diff_ids") != diff_ids:
        bad("config rootfs.diff_ids %s != layers %s" % (cfg.get("rootfs"), diff_ids))
    c = cfg.get("config", {})
    for k, v in sorted((c.get("Labels") or {}).items()):
        print("label %s=%s" % (k, v))
    for e in c.get("Env") or []:
        print("env " + e)
    print("entrypoint " + json.dumps(c.get("Entrypoint")))
    print("cmd " + json.dumps(c.get("Cmd")))
    print("workdir %s" % c.get("WorkingDir"))
    print("arch %s/%s" % (cfg.get("architecture"), cfg.get("os")))


def check_oci(root):
    if json.load(open(os.path.join(root, "oci-layout"))).get("imageLayoutVersion") != "1.0.0":
        bad("oci-layout")
    index = json.load(open(os.path.join(root, "index.json")))
    if index.get("schemaVersion") != 2 or len(index.get("manifests", [])) != 1:
        bad("index.json: %s" % index)
    d = index["manifests"][0]
    print("ref %s" % d.get("annotations", {}).get("org.opencontainers.image.ref.name"))
    man = json.loads(blob(root, d["digest"], d["size"]))
    print("manifest " + d["digest"])
    if man.get("mediaType") != "application/vnd.oci.image.manifest.v1+json" or man.get("schemaVersion") != 2:
        bad("manifest media type / schema")
    cfg_bytes = blob(root, man["config"]["digest"], man["config"]["size"])
    print("config " + man["config"]["digest"])
    diff_ids = []
    for n, l in enumerate(man["layers"]):
        data = blob(root, l["digest"], l["size"])
        if l["mediaType"].endswith("+gzip"):
            data = gzip.decompress(data)
        diff_ids.append(sha(data))
        print("layer %d %s %s %s" % (n, l["digest"], sha(data), l["mediaType"]))
        list_layer(n, data)
    for k, v in sorted((man.get("annotations") or {}).items()):
        print("annotation %s=%s" % (k, v))
    facts_config(json.loads(cfg_bytes), diff_ids)


def check_docker(root):
    man = json.load(open(os.path.join(root, "manifest.json")))
    if len(man) != 1:
        bad("manifest.json has %d images" % len(man))
    m = man[0]
    print("ref %s" % ",".join(m.get("RepoTags", [])))
    cfg_bytes = open(os.path.join(root, m["Config"]), "rb").read()
    if sha(cfg_bytes)[7:] + ".json" != m["Config"]:
        bad("config file name is not its digest")
    print("config " + sha(cfg_bytes))
    diff_ids = []
    for n, name in enumerate(m["Layers"]):
        data = open(os.path.join(root, name), "rb").read()
        diff_ids.append(sha(data))
        print("layer %d %s %s" % (n, sha(data), sha(data)))
        list_layer(n, data)
    facts_config(json.loads(cfg_bytes), diff_ids)


if __name__ == "__main__":
    {"oci": check_oci, "docker": check_docker}[sys.argv[1]](sys.argv[2])
