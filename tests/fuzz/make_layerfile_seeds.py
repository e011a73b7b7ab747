#!/usr/bin/env python3
# Writes the seed corpus of tests/fuzz/fuzz_layerfile.c (tests/fuzz/corpus/layerfile/): small layers in the
# format of lib/layerfile.h, valid ones with 0-3 runs and copies damaged in one way each. Run once by hand
# (python3 tests/fuzz/make_layerfile_seeds.py) after a format change; the seeds are committed.
import os
import struct
import sys

ABI = int(sys.argv[1]) if len(sys.argv) > 1 else 3
OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "layerfile")


def crc32c(data, crc=0):
    crc ^= 0xFFFFFFFF
    for b in data:
        crc ^= b
        for _ in range(8):
            crc = (crc >> 1) ^ 0x82F63B78 if crc & 1 else crc >> 1
    return crc ^ 0xFFFFFFFF


def state(ident):
    # A snapshot state file with one guest-like section (snapfile.h framing).
    sec = struct.pack("<II", 1, 8) + struct.pack("<Q", 42)
    hdr = b"MOTESNAP" + struct.pack("<IIQ", 2, ABI, 0) + ident + struct.pack("<QII", 0, 1, 0)
    body = bytearray(hdr + sec)
    size = len(body) + 8
    body[16:24] = struct.pack("<Q", size)
    return bytes(body) + struct.pack("<I", crc32c(body)) + b"DONE"


def layer(runs, data=False, abi=ABI, mem=64 << 20):
    ident = bytes(range(1, 17))
    st = state(ident)
    pages = sum(n for _, n in runs)
    meta = 128 + 16 * len(runs) + len(st) + 8
    off = (meta + 4095) & ~4095
    hdr = b"MOTELAYR" + struct.pack("<IIQ", 1, abi, off + pages * 4096) + ident + b"\xab" * 16
    hdr += struct.pack("<QQIIQQQIIQQ", mem, 0, len(runs), len(st), off, pages, 0, 0, 0, 0, 0)
    assert len(hdr) == 128
    body = hdr + b"".join(struct.pack("<QQ", f, n) for f, n in runs) + st
    out = body + struct.pack("<I", crc32c(body)) + b"DONE"
    out += b"\0" * (off - len(out))
    if data:
        out += bytes((i * 7) & 0xFF for i in range(pages * 4096))
    return out


def refix(b):
    # Recompute the metadata CRC after a change on purpose.
    b = bytearray(b)
    nruns, ssize = struct.unpack_from("<II", b, 80)
    meta = 128 + 16 * nruns + ssize + 8
    b[meta - 8:meta - 4] = struct.pack("<I", crc32c(bytes(b[:meta - 8])))
    return bytes(b)


os.makedirs(OUT, exist_ok=True)
seeds = {
    "empty-layer": layer([]),
    "one-run": layer([(9, 1)], data=True),
    "three-runs": layer([(9, 1), (256, 2), (1000, 1)], data=True),
    "metadata-only": layer([(9, 1), (256, 2)], data=False),
    "truncated-metadata": layer([(9, 1)])[:150],
    "truncated-data": layer([(9, 1), (20, 1)], data=True)[:-100],
    "bad-magic": b"MOTELAYX" + layer([(9, 1)])[8:],
    "foreign-version": layer([(9, 1)])[:8] + struct.pack("<I", 2) + layer([(9, 1)])[12:],
    "foreign-abi": layer([(9, 1)], abi=ABI + 1),
    "runs-out-of-order": refix(layer([(9, 1), (5, 1)])),
    "overlapping-runs": layer([(9, 2), (10, 1)]),
    "run-past-ram": layer([(16383, 2)]),
    "trailing-bytes": layer([(9, 1)], data=True) + b"x",
}
seeds["bad-crc"] = bytearray(layer([(9, 1)]))
seeds["bad-crc"][130] ^= 1
for name, data in seeds.items():
    with open(os.path.join(OUT, name), "wb") as f:
        f.write(bytes(data))
print("wrote %d seeds to %s" % (len(seeds), OUT))
