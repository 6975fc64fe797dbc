/* Device nodes: the numbers of a host's node (--device), and the cgroup v2 device filter,
 * an eBPF program that TypeScript compiles (src/cgroups/device-filter.ts) and this file
 * loads and attaches to a container's cgroup directory. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/bpf.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include "mycfs.h"

/* out[0] = path's mode (following symlinks), out[1] and out[2] = the major and minor
 * number of the device it is (0 for other files). */
int mycfs_device_number(const char *path, uint32_t *out) {
  struct stat st;
  if (stat(path, &st) < 0) return -errno;
  out[0] = st.st_mode;
  out[1] = major(st.st_rdev);
  out[2] = minor(st.st_rdev);
  return 0;
}

static int bpf(int cmd, union bpf_attr *attr) { return (int)syscall(SYS_bpf, cmd, attr, sizeof *attr); }

/* Loads the program (len bytes of struct bpf_insn) and attaches it to the cgroup
 * directory. BPF_F_ALLOW_MULTI: it is added to the programs of the cgroups above (a
 * host's own, systemd's say), and a device is usable only if every one allows it. The
 * attachment holds the program once its fd is closed, until the cgroup is removed. */
int mycfs_attach_device_filter(const char *cgroup_dir, const uint8_t *insns, uint32_t len) {
  int cgroup = open(cgroup_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (cgroup < 0) return -errno;
  union bpf_attr load;
  memset(&load, 0, sizeof load);
  load.prog_type = BPF_PROG_TYPE_CGROUP_DEVICE;
  load.insns = (uint64_t)(uintptr_t)insns;
  load.insn_cnt = len / sizeof(struct bpf_insn);
  load.license = (uint64_t)(uintptr_t) "MIT";
  memcpy(load.prog_name, "mycfs_devices", sizeof "mycfs_devices");
  /* the verifier gives up with EAGAIN when a signal reaches it (JavaScriptCore's and a
   * profiler's do): tried again, as libbpf's sys_bpf_prog_load does */
  int prog = -1;
  for (int tries = 0; tries < 5 && prog < 0; tries++)
    if ((prog = bpf(BPF_PROG_LOAD, &load)) < 0 && errno != EAGAIN) break;
  int err = prog < 0 ? errno : 0;
  if (prog >= 0) {
    union bpf_attr attach;
    memset(&attach, 0, sizeof attach);
    attach.target_fd = (uint32_t)cgroup;
    attach.attach_bpf_fd = (uint32_t)prog;
    attach.attach_type = BPF_CGROUP_DEVICE;
    attach.attach_flags = BPF_F_ALLOW_MULTI;
    if (bpf(BPF_PROG_ATTACH, &attach) < 0) err = errno;
    close(prog);
  }
  close(cgroup);
  return -err;
}
