#!/usr/bin/env bash
# Write a seed for fuzz_snapcheck: one host byte, the boot-info block from SNAPSHOT.mem, then SNAPSHOT.
# usage: tests/fuzz/make_snapcheck_seed.sh SNAPSHOT HOST-BYTE OUT   (see tests/fuzz/fuzz_snapcheck.c)
set -eu
snap=$1 host=$2 out=$3
# struct mote_boot_info lies at guest address 0x9000, after the memory file's 4 KiB header.
bi_size=$(printf '#include <mote/abi.h>\n#include <stdio.h>\nint main(void){printf("%%zu\\n",sizeof(struct mote_boot_info));}\n' |
	cc -Iinclude -x c -o /tmp/mote-bi-size.$$ - && /tmp/mote-bi-size.$$)
rm -f /tmp/mote-bi-size.$$
{
	printf "\\$(printf %03o "$host")"
	dd if="$snap.mem" bs=1 skip=$((4096 + 0x9000)) count="$bi_size" status=none
	cat "$snap"
} >"$out"
