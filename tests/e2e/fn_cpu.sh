#!/usr/bin/env bash
# Per-function CPU limits (docs/functions.md, "Limits"): `mote deploy --cpus N --cpu-weight W` lands in the
# cgroup of every VM of that function, pooled VMs included (they are started before any function is known and
# get the limits when attached); other functions' VMs stay unlimited; the admin API shows the settings; bad
# values get one line and 64 from the CLI, 400 from the admin API.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/helpers/gateway.sh"
need_kvm fn_cpu
if [ "$(id -u)" != 0 ]; then
	skip fn_cpu "CPU limits need the jail, and the jail needs root"
	exit 0
fi
GATEWAY=$E2E_BUILD/asan/mote-gateway
need_built "$MOTE" "$GATEWAY" "$MOTE_VMM" "$MOTE_KERNEL" "$E2E_BUILD/runtimes/mote-lua"
command -v curl >/dev/null || {
	skip fn_cpu "curl is not installed"
	exit 0
}
GW_POOL_FLAGS=()
GW_FLAGS=(--vmm "$E2E_BUILD/mote-vmm")
if grep -q "cpu" /sys/fs/cgroup/unified/cgroup.controllers 2>/dev/null; then
	CG_CPU=/sys/fs/cgroup/unified V2=1
else
	CG_CPU=/sys/fs/cgroup/cpu V2=0
fi

# cpu_of PID: "QUOTA WEIGHT" of the VM process PID's cgroup (named by its uid): v1 cfs_quota_us and
# shares, v2 the first field of cpu.max and cpu.weight.
cpu_of() {
	local uid
	uid=$(awk '/^Uid:/ { print $2 }' "/proc/$1/status" 2>/dev/null)
	[ -n "$uid" ] || return 1
	if [ "$V2" = 1 ]; then
		echo "$(cut -d' ' -f1 "$CG_CPU/mote/$uid/cpu.max") $(cat "$CG_CPU/mote/$uid/cpu.weight")"
	else
		echo "$(cat "$CG_CPU/mote/$uid/cpu.cfs_quota_us") $(cat "$CG_CPU/mote/$uid/cpu.shares")"
	fi
}
# limited_vms STATE QUOTA WEIGHT: how many VM processes of STATE have exactly these CPU limits.
limited_vms() {
	local p n=0
	for p in $(pgrep -f -- "--restore $1/bases/"); do
		[ "$(cpu_of "$p")" = "$2 $3" ] && n=$((n + 1))
	done
	echo "$n"
}
fn_json() { curl -s --max-time 10 --unix-socket "$SOCK" "http://mote/functions/$1"; }

mkdir -p "$E2E_TMP/hello"
echo 'function handle(req) return "hello\n" end' >"$E2E_TMP/hello/handler.lua"

STATE=$E2E_TMP/state
start_gw g1 "$STATE" --pool lua=2 || e2e_finish
if [ "$V2" = 1 ]; then QUOTA=25000 WEIGHT=300 FREE=max DEFW=100; else QUOTA=25000 WEIGHT=3072 FREE=-1 DEFW=1024; fi

mote_cli deploy-limited deploy lim "$E2E_TMP/hello" --cpus 0.25 --cpu-weight 300 --idle-timeout 60s
expect_status deploy-limited 0 && pass deploy-with-cpu-limits
j=$(fn_json lim)
echo "$j" | grep -q '"cpus": *0.25' && echo "$j" | grep -q '"cpu_weight": *300' && pass admin-shows-cpu-limits ||
	fail admin-shows-cpu-limits "$(echo "$j" | head -c 300)"
# The deploy's check VM has gone; wait for the pool to be full again, then a cold request takes a pooled VM.
for ((i = 0; i < 100; i++)); do
	[ "$(vms_of "$STATE")" -ge 2 ] && break
	sleep 0.1
done
http lim1 '/fn/lim/x'
n=$(limited_vms "$STATE" "$QUOTA" "$WEIGHT")
[ "$HTTP_CODE" = 200 ] && [ "$n" = 1 ] && pass pooled-vm-gets-function-cpu-limits ||
	fail pooled-vm-gets-function-cpu-limits "status $HTTP_CODE, $n VMs with quota $QUOTA weight $WEIGHT; $(for p in $(pgrep -f -- "--restore $STATE/bases/"); do echo -n "[$(cpu_of "$p")] "; done)"

# An unlimited function's VM keeps no quota and the default weight.
mote_cli deploy-free deploy free "$E2E_TMP/hello" --idle-timeout 60s
http free1 '/fn/free/x'
j=$(fn_json free)
nfree=$(limited_vms "$STATE" "$FREE" "$DEFW")
nlim=$(limited_vms "$STATE" "$QUOTA" "$WEIGHT")
[ "$HTTP_CODE" = 200 ] && echo "$j" | grep -q '"cpus": *null' && [ "$nlim" = 1 ] && [ "$nfree" -ge 1 ] &&
	pass other-functions-stay-unlimited ||
	fail other-functions-stay-unlimited "status $HTTP_CODE, $nlim limited, $nfree unlimited VMs; $(echo "$j" | head -c 200)"

# A VM started for the function without a pooled one (--pool 0) gets the limits too.
stop_gw "$GW_PID" TERM
start_gw g2 "$STATE" --pool 0 || e2e_finish
http lim2 '/fn/lim/x'
n=$(limited_vms "$STATE" "$QUOTA" "$WEIGHT")
[ "$HTTP_CODE" = 200 ] && [ "$n" = 1 ] && pass restored-vm-gets-function-cpu-limits ||
	fail restored-vm-gets-function-cpu-limits "status $HTTP_CODE, $n VMs with quota $QUOTA weight $WEIGHT"

# Bad values: one line and 64 from the CLI, nothing deployed; 400 from the admin API.
for bad in "--cpus 0" "--cpus 0.001" "--cpus 2000" "--cpus abc" "--cpus -1" "--cpu-weight 0" "--cpu-weight 10001" \
	"--cpu-weight 1x"; do
	tag=bad-${bad// /}
	# shellcheck disable=SC2086
	mote_cli "$tag" deploy badcpu "$E2E_TMP/hello" $bad
	expect_one_error "deploy-refuses${bad// /-}" 64 "" "${bad%% *}"
done
mote_cli ls-after-bad ls
out_has badcpu && fail bad-cpu-values-deploy-nothing "$(cat "$OUT")" || pass bad-cpu-values-deploy-nothing
code=$(curl -s -o "$E2E_TMP/api.body" -w '%{http_code}' --max-time 10 --unix-socket "$SOCK" -X PUT \
	--data-binary @/dev/null "http://mote/functions/x?cpus=lots")
[ "$code" = 400 ] && grep -q "cpus: 'lots'" "$E2E_TMP/api.body" && pass admin-api-refuses-bad-cpus ||
	fail admin-api-refuses-bad-cpus "status $code: $(head -c 200 "$E2E_TMP/api.body")"
stop_gw "$GW_PID" TERM
grep -qE 'Sanitizer|runtime error' "$E2E_TMP"/g*.gw.err && fail gateway-sanitizer "$(grep -m3 -hE 'ERROR|runtime error' "$E2E_TMP"/g*.gw.err)"
e2e_finish
