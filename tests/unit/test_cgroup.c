/* Unit test of lib/cgroup.c and lib/jail.c parsers: mountinfo lines, cgroup paths, --cpus, --io-limit,
 * --uid-range. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "cgroup.h"
#include "jail.h"

#include "check.h"

static void test_mountinfo(void)
{
	char mnt[256];
	unsigned ctrls = 0;
	int k = mote_cgroup_parse_mountinfo(
	    "35 25 0:30 / /sys/fs/cgroup/cpu rw,relatime shared:12 - cgroup cgroup rw,cpu\n", mnt,
	    sizeof(mnt), &ctrls);
	check("mountinfo-v1-cpu",
	      k == MOTE_CGROUP_V1 && !strcmp(mnt, "/sys/fs/cgroup/cpu") && ctrls == (1u << CG_CPU),
	      "kind %d mnt %s ctrls %#x", k, mnt, ctrls);
	k = mote_cgroup_parse_mountinfo(
	    "36 25 0:31 / /sys/fs/cgroup/cpu,cpuacct rw shared:13 - cgroup cgroup rw,cpu,cpuacct\n", mnt,
	    sizeof(mnt), &ctrls);
	check("mountinfo-v1-comounted",
	      k == MOTE_CGROUP_V1 && ctrls == ((1u << CG_CPU) | (1u << CG_CPUACCT)) &&
		  !strcmp(mnt, "/sys/fs/cgroup/cpu,cpuacct"),
	      "kind %d mnt %s ctrls %#x", k, mnt, ctrls);
	k = mote_cgroup_parse_mountinfo("40 25 0:35 / /sys/fs/cgroup/unified rw - cgroup2 cgroup2 rw\n", mnt,
					sizeof(mnt), &ctrls);
	check("mountinfo-v2", k == MOTE_CGROUP_V2 && !strcmp(mnt, "/sys/fs/cgroup/unified"), "kind %d mnt %s",
	      k, mnt);
	k = mote_cgroup_parse_mountinfo(
	    "41 25 0:36 / /mnt/with\\040space rw - cgroup cgroup rw,memory,pids\n", mnt, sizeof(mnt), &ctrls);
	check("mountinfo-escaped-space",
	      k == MOTE_CGROUP_V1 && !strcmp(mnt, "/mnt/with space") &&
		  ctrls == ((1u << CG_MEMORY) | (1u << CG_PIDS)),
	      "kind %d mnt '%s' ctrls %#x", k, mnt, ctrls);
	k = mote_cgroup_parse_mountinfo("22 1 254:0 / / rw,relatime - ext4 /dev/vda rw\n", mnt, sizeof(mnt),
					&ctrls);
	check("mountinfo-not-cgroup", k == 0, "kind %d", k);
	k = mote_cgroup_parse_mountinfo("garbage", mnt, sizeof(mnt), &ctrls);
	check("mountinfo-garbage", k == 0, "kind %d", k);
	k = mote_cgroup_parse_mountinfo(
	    "37 25 0:32 / /sys/fs/cgroup/systemd rw - cgroup cgroup rw,xattr,name=systemd\n", mnt,
	    sizeof(mnt), &ctrls);
	check("mountinfo-named-hierarchy", k == MOTE_CGROUP_V1 && ctrls == 0, "kind %d ctrls %#x", k, ctrls);
}

static void test_paths(void)
{
	char p[64];
	int r = mote_cgroup_path("/sys/fs/cgroup/memory", "100123", p, sizeof(p));
	check("path-vm", r == 0 && !strcmp(p, "/sys/fs/cgroup/memory/mote/100123"), "%d %s", r, p);
	r = mote_cgroup_path("/sys/fs/cgroup/unified", NULL, p, sizeof(p));
	check("path-parent", r == 0 && !strcmp(p, "/sys/fs/cgroup/unified/mote"), "%d %s", r, p);
	char tiny[8];
	check("path-too-long", mote_cgroup_path("/sys/fs/cgroup/memory", "1", tiny, sizeof(tiny)) < 0, "fit");
}

static void test_cpus(void)
{
	static const struct {
		const char *text;
		uint64_t quota;
	} good[] = {{"0.25", 25000},  {"1", 100000},  {"2", 200000},	  {"0.5", 50000},
		    {"1.75", 175000}, {"0.01", 1000}, {"1024", 102400000}};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		uint64_t q = 0;
		int r = mote_parse_cpus(good[i].text, 100000, &q);
		char name[64];
		snprintf(name, sizeof(name), "cpus-%s", good[i].text);
		check(name, r == 0 && q == good[i].quota, "r %d quota %llu, want %llu", r,
		      (unsigned long long)q, (unsigned long long)good[i].quota);
	}
	static const char *const bad[] = {"",	"0",  "0.0",  "0.001", "-1",	"abc",
					  "1.", ".5", "1025", "1e3",   "0.25x", "99999999999999999999"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint64_t q = 0;
		char name[64];
		snprintf(name, sizeof(name), "cpus-bad-'%s'", bad[i]);
		check(name, mote_parse_cpus(bad[i], 100000, &q) < 0, "accepted as %llu",
		      (unsigned long long)q);
	}
}

static void test_io(void)
{
	struct mote_io_limit io;
	char why[128];
	int r = mote_parse_io_limit("rbps=10M,wbps=1M,riops=100,wiops=50", &io, why, sizeof(why));
	check("io-all",
	      r == 0 && io.rbps == 10u << 20 && io.wbps == 1u << 20 && io.riops == 100 && io.wiops == 50,
	      "r %d %s", r, r ? why : "");
	r = mote_parse_io_limit("rbps=1M,,", &io, why, sizeof(why));
	check("io-empty-items", r == 0 && io.rbps == 1u << 20, "r %d", r);
	r = mote_parse_io_limit("wiops=7", &io, why, sizeof(why));
	check("io-one", r == 0 && io.wiops == 7 && !io.rbps && !io.wbps && !io.riops, "r %d", r);
	static const char *const bad[] = {"",	       "rbps",	   "rbps=",    "rbps=0", "xbps=1M",
					  "riops=10M", "riops=-1", "rbps=10Q", ","};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char name[64];
		snprintf(name, sizeof(name), "io-bad-'%s'", bad[i]);
		why[0] = 0;
		int br = mote_parse_io_limit(bad[i], &io, why, sizeof(why));
		check(name, br < 0 && why[0], "accepted");
	}
}

static void test_uid_range(void)
{
	uid_t lo = 0, hi = 0;
	check("uid-range",
	      mote_parse_uid_range("100000-165535", &lo, &hi) == 0 && lo == 100000 && hi == 165535, "%u-%u",
	      (unsigned)lo, (unsigned)hi);
	check("uid-range-one", mote_parse_uid_range("5-5", &lo, &hi) == 0 && lo == 5 && hi == 5, "%u-%u",
	      (unsigned)lo, (unsigned)hi);
	static const char *const bad[] = {"",	"0-10", "10-5",		"100000", "a-b",
					  "1-", "-5",	"1-2147483647", "1-2x"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char name[64];
		snprintf(name, sizeof(name), "uid-range-bad-'%s'", bad[i]);
		check(name, mote_parse_uid_range(bad[i], &lo, &hi) < 0, "accepted %u-%u", (unsigned)lo,
		      (unsigned)hi);
	}
}

int main(void)
{
	test_mountinfo();
	test_paths();
	test_cpus();
	test_io();
	test_uid_range();
	return failures ? 1 : 0;
}
