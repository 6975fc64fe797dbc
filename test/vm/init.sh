#!/bin/busybox sh
# /init of the test VM: what the init of a minimal VM does to make it a container host
# (the kernel file systems, cgroup2 with every controller enabled, the overlay module),
# then the checks, one "CHECK name ok|FAIL why" line each on the serial console; then
# mycfs itself is PID 1.
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
mount -t cgroup2 cgroup2 /sys/fs/cgroup
for c in $(cat /sys/fs/cgroup/cgroup.controllers); do echo "+$c" > /sys/fs/cgroup/cgroup.subtree_control; done
insmod /lib/modules/overlay.ko
echo "BOOTED $(cut -d' ' -f1 /proc/uptime) $(uname -r)"
/checks.sh
echo "CHECKS DONE"
# mycfs as the machine's init from here: the kernel's arguments after -- are its command
# line. Bun cannot start without /proc, which stays; /sys and cgroup2 mycfs mounts itself.
umount /sys/fs/cgroup /sys
exec /bin/mycfs "$@"
