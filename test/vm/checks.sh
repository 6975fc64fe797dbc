#!/bin/sh
# The checks the VM test runs on a pure cgroup v2 kernel, with the initramfs as the host's
# root. Each is a function that prints why it failed and returns 1, or prints nothing.
M=/bin/mycfs
CG=/sys/fs/cgroup
ERR=/tmp/stderr

fail() { echo "$*"; return 1; }
eq() { [ "$1" = "$2" ] || fail "$3: got '$1', expected '$2'"; }
now() { cut -d' ' -f1 /proc/uptime; }
secs() { awk "BEGIN { print $2 - $1 }"; }

run_embedded() {
  t0=$(now)
  out=$($M run --rm busybox echo hello 2>$ERR) || fail "exit $?: $(cat $ERR)" || return 1
  echo "FIRST-RUN $(secs "$t0" "$(now)")" >&3
  eq "$out" hello "output" || return 1
  grep -q "the host's root is an initramfs" $ERR || fail "no notice: $(cat $ERR)"
}

start_time() { # a second start: the image is in the store
  t0=$(now)
  $M run --rm busybox true 2>$ERR || fail "exit $?: $(cat $ERR)" || return 1
  echo "START $(secs "$t0" "$(now)")" >&3
}

pivoted_overlay() { # (but for the container's /etc files, bound from its record on the initramfs)
  out=$($M run --rm busybox sh -c 'awk "\$5 == \"/\" { print \$9 }" /proc/self/mountinfo; grep " - rootfs " /proc/self/mountinfo | grep -vc -e " /etc/host" -e " /etc/resolv.conf "; test -e /vm-host-token && echo host-visible; true' 2>$ERR) ||
    fail "exit $?: $(cat $ERR)" || return 1
  eq "$out" "overlay
0" "root's file system, rootfs lines in mountinfo"
}

chroot_escape() {
  out=$($M run --rm -v /bin/probe:/probe:ro busybox /probe escape /vm-host-token 2>$ERR) || fail "exit $?: $(cat $ERR)" || return 1
  eq "$out" contained "the chroot escape"
}

rootfs_dir() {
  rm -rf /tmp/rootfs && cp -a /var/lib/mycfs/layers/*/ /tmp/rootfs || return 1
  out=$($M run --rm --rootfs /tmp/rootfs /bin/sh -c 'echo in-rootfs; test -e /vm-host-token && echo host-visible; true' 2>$ERR) || fail "exit $?: $(cat $ERR)" || return 1
  eq "$out" in-rootfs "output"
  rm -rf /tmp/rootfs
}

layered_image() { # two layers made by umoci: a deleted file and a replaced directory, as root and in a user namespace
  look='ls /opq; test -e /delme && echo delme-present; cat /kept/k'
  $M import /layered/layout layered:1 >/dev/null 2>$ERR || fail "import: $(cat $ERR)" || return 1
  out=$($M run --rm --entrypoint sh layered:1 -c "$look" 2>$ERR) || fail "exit $?: $(cat $ERR)" || return 1
  eq "$(echo $out)" "b k" "/opq, /delme, /kept/k" || return 1
  out=$($M run --rm --userns=auto --entrypoint sh layered:1 -c "$look" 2>$ERR) || fail "userns: exit $?: $(cat $ERR)" || return 1
  eq "$(echo $out)" "b k" "/opq, /delme, /kept/k in a user namespace" || return 1
  $M rmi layered:1 >/dev/null 2>$ERR || fail "rmi: $(cat $ERR)"
}

limits() {
  out=$($M run --rm -m 64m --memory-swap 96m --cpus 0.5 -c 512 --cpuset-cpus 1 --pids-limit 20 --ulimit nofile=100:200 busybox \
    sh -c 'cd /sys/fs/cgroup; cat memory.max memory.swap.max cpu.max cpu.weight cpuset.cpus pids.max; ulimit -n; ulimit -Hn' 2>$ERR) ||
    fail "exit $?: $(cat $ERR)" || return 1
  eq "$(echo $out)" "67108864 33554432 50000 100000 20 1 20 100 200" "memory.max memory.swap.max cpu.max cpu.weight cpuset.cpus pids.max nofile"
}

blkio_weight() { # io.weight needs the io cost model or BFQ: the value, or the error that says so
  out=$($M run --rm --blkio-weight 300 busybox sh -c 'cat /sys/fs/cgroup/io.weight /sys/fs/cgroup/io.bfq.weight 2>/dev/null; true' 2>$ERR)
  rc=$?
  [ $rc = 0 ] && { echo "$out" | grep -q "default 300" || fail "io weight: $out"; return; }
  eq "$rc" 125 "exit status" && grep -q "^mycfs: --blkio-weight: " $ERR || fail "$(cat $ERR)"
}

oom() {
  $M run --rm -m 16m --memory-swap 16m busybox tail /dev/zero 2>$ERR
  eq "$?" 137 "exit status" && grep -q "ran out of memory" $ERR || fail "$(cat $ERR)"
}

pids() {
  out=$($M run --rm --pids-limit 5 -v /bin/probe:/probe:ro busybox sh -c '/probe forks 10; grep max /sys/fs/cgroup/pids.events' 2>$ERR) ||
    fail "exit $?: $(cat $ERR)" || return 1
  echo "$out" | grep -q "^max [1-9]" || fail "pids.events: $out"
  started=$(echo "$out" | head -1 | tr -dc 0-9)
  [ "$started" -lt 10 ] || fail "all 10 processes started under --pids-limit 5: $out"
}

detached() {
  id=$($M run -d --name web busybox sleep 300 2>$ERR) || fail "run -d: $(cat $ERR)" || return 1
  $M ps | grep -q "web.*Up" || fail "ps: $($M ps 2>&1)" || return 1
  ls -d $CG/mycfs-${id%"${id#????????????}"} >/dev/null || fail "no cgroup for $id" || return 1
  $M stop -t 1 web >/dev/null 2>$ERR || fail "stop: $(cat $ERR)" || return 1
  eq "$($M wait web)" 137 "exit code after stop" || return 1
  $M ps -a | grep -q "web.*Exited" || fail "ps -a: $($M ps -a 2>&1)" || return 1
  $M rm web >/dev/null 2>$ERR || fail "rm: $(cat $ERR)" || return 1
  eq "$($M ps -a -q)" "" "ps -a after rm"
}

exec_into() {
  $M run -d --name ex busybox sleep 300 >/dev/null 2>$ERR || fail "run -d: $(cat $ERR)" || return 1
  out=$($M exec ex sh -c 'cat /proc/self/cgroup; wc -l < /sys/fs/cgroup/cgroup.procs; cat /proc/1/cmdline | tr "\0" " "' 2>$ERR)
  rc=$?
  $M rm -f ex >/dev/null 2>&1
  eq "$rc" 0 "exec: $(cat $ERR)" && eq "$(echo $out)" "0::/ 3 sleep 300" "cgroup, processes in the container's cgroup, PID 1"
}

exec_cve_2024_21626() { # the working directory through /proc/self/fd (the fd of the cgroup2 directory)
  climb=../../../../../../../../../../../../../../../../
  $M run -d --name cve -w /app busybox sh -c 'cd /; rmdir /app; ln -s /proc/self/fd/7 /app; touch /ready; sleep 300' >/dev/null 2>$ERR ||
    fail "run -d: $(cat $ERR)" || return 1
  until $M exec -w / cve test -e /ready 2>/dev/null; do sleep 0.1; done
  out=$($M exec cve cat ${climb}vm-host-token 2>&1; echo "rc=$?")
  for n in 3 4 5 6 7 8; do out="$out $($M exec -w /proc/self/fd/$n cve cat ${climb}vm-host-token 2>&1; echo "rc=$?")"; done
  $M rm -f cve >/dev/null 2>&1
  case "$out" in *host-only*) fail "the host's token was read: $out" ;; esac || return 1
  eq "$(echo "$out" | grep -o 'rc=[0-9]*' | sort -u | tr '\n' ' ')" "rc=125 " "exit codes"
}

devices() { # docker's allow-list, by a BPF program on the container's cgroup
  out=$($M run --rm busybox sh -c 'mknod /dev/k c 1 11 && echo made; echo x > /dev/k || echo refused; head -c 1 /dev/zero | wc -c' 2>$ERR) ||
    fail "exit $?: $(cat $ERR)" || return 1
  eq "$out" "made
refused
1" "mknod, write to 1:11, read /dev/zero"
}

oci_device_hole() { # config.json's deny after an allow-all: the last matching rule decides, in the BPF program
  B=/tmp/hole
  rm -rf $B && mkdir -p $B && cp -a /var/lib/mycfs/layers/*/ $B/rootfs || return 1
  echo 'echo x > /dev/null || echo null-w-refused; head -c0 /dev/null && echo null-r; echo x > /dev/zero && echo zero-w' > $B/rootfs/hole.sh
  $M spec --bundle $B || return 1
  # terminal off, the script as the command, the deny-all made allow c *:* rwm, then deny c 1:3 w
  sed -i -e 's/"terminal": true/"terminal": false/' -e 's|^\(\t*\)"sh"$|\1"sh", "/hole.sh"|' \
    -e '/"devices": \[/,/\]/ s/"allow": false,/"allow": true, "type": "c",/' \
    -e '/"devices": \[/,/\]/ s/^\(\t*\)\]$/\1, { "allow": false, "type": "c", "major": 1, "minor": 3, "access": "w" } ]/' $B/config.json
  out=$($M --root /tmp/hole-state run --bundle $B hole 2>$ERR)
  rm -rf $B /tmp/hole-state
  eq "$out" "null-w-refused
null-r
zero-w" "write /dev/null (denied), read it, write /dev/zero: $(cat $ERR)"
}

exec_enter_program() { # a container that could trace what enters it gets the enter program (a sealed memfd)
  $M run -d --name tracer --cap-add SYS_PTRACE busybox sleep 600 >/dev/null 2>$ERR || fail "run -d: $(cat $ERR)" || return 1
  out=$($M exec tracer sh -c 'echo $$; cat /proc/1/comm' 2>$ERR) || { fail "exec: $(cat $ERR)"; $M rm -f tracer >/dev/null; return 1; }
  $M rm -f tracer >/dev/null 2>&1
  eq "$(echo "$out" | tail -1)" sleep "the container's PID 1 seen from the exec'd process"
}

nothing_left() {
  eq "$(grep mycfs /proc/mounts)" "" "mounts" &&
    eq "$(ls $CG | grep mycfs)" "" "cgroups" &&
    eq "$(ls /var/lib/mycfs/containers)" "" "containers in the store" &&
    eq "$(ls /run/mycfs | grep -v -e '^names$' -e '^lock$')" "" "records" &&
    eq "$(pidof sleep tail mycfs)" "" "processes"
}

exec 3>&1
for c in run_embedded start_time pivoted_overlay chroot_escape rootfs_dir layered_image limits blkio_weight oom pids detached \
  exec_into exec_cve_2024_21626 devices oci_device_hole exec_enter_program nothing_left; do
  if why=$($c 2>&1); then echo "CHECK $c ok"; else echo "CHECK $c FAIL $(echo "$why" | tr '\n' ' ' | cut -c1-1200)"; fi
done
