// System calls newer than the Linux 6.1 UAPI headers the other two tables come from, which
// Docker's profile names: without a number a name is skipped, and the call gets EPERM.
// Numbered as in the kernel's own tables (arch/x86/entry/syscalls/syscall_64.tbl and
// include/uapi/asm-generic/unistd.h, which give every new call the same number from 424 on).
// test/seccomp-syscalls.unit.test.ts checks that they take no number of the headers', and that
// they agree with the headers of a machine new enough to have them.
const both = {
  cachestat: 451, // 6.5
  fchmodat2: 452, // 6.6
  map_shadow_stack: 453, // 6.6
  futex_wake: 454, // 6.7
  futex_wait: 455,
  futex_requeue: 456,
  statmount: 457, // 6.8
  listmount: 458,
  lsm_get_self_attr: 459,
  lsm_set_self_attr: 460,
  lsm_list_modules: 461,
  mseal: 462, // 6.10
  setxattrat: 463, // 6.13
  getxattrat: 464,
  listxattrat: 465,
  removexattrat: 466,
};

export const newer = {
  x86_64: { ...both, uretprobe: 335 } as Readonly<Record<string, number>>, // 6.11, x86_64 only
  aarch64: both as Readonly<Record<string, number>>,
};
