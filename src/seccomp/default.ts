// The default seccomp profile: Docker's, rule for rule, with the differences listed below.
//
// From moby/moby profiles/seccomp/default.json as of moby PR #50097 (May 2025, Docker Engine
// 28.2): io_uring_setup, io_uring_enter and io_uring_register are no longer allowed (#46762,
// Docker 25: io_uring's operations bypass seccomp, and it has been a source of kernel
// exploits); the calls of kernels 5.17 to 6.13 are (#47341, #50077), lsm_* only with
// CAP_SYS_ADMIN (#50097). Copyright Docker, Inc., Apache License 2.0
// (https://www.apache.org/licenses/LICENSE-2.0). Kept in Docker's order, so that a newer
// default.json can be compared with it rule by rule.
//
// Differences from Docker's:
// - ioctl TIOCSTI and TIOCLINUX are refused: both push input into a terminal's queue, and a
//   container holding a terminal fd could type into whatever reads it (see README, "At a
//   terminal"). They come first, before the rule that allows ioctl, as the first match wins.
//   The request is matched on its low 32 bits, the unsigned int the kernel reads: a filter
//   comparing all 64 let 0x1_00005412 through (flatpak, CVE-2019-10063).
// - socket(AF_VSOCK) is refused the same way, on the low 32 bits of the family (an int to
//   the kernel), before socket is allowed: Docker's `family != 40` compares all 64 bits,
//   so 0x1_00000028 passes it.
// - includes.minKernel "4.8" on ptrace is gone: mycfs needs Linux 5.6.
// - archMap is gone: the compiled filter answers the native ABI only (src/seccomp/compile.ts).
// Calls newer than the syscall tables' headers are numbered in syscalls/newer.ts.
import type { ArgCondition, Profile, Rule } from "./profile";
import { E } from "../errno";

const AF_VSOCK = 40n;
const TIOCSTI = 0x5412n;
const TIOCLINUX = 0x541cn;
/** CLONE_NEWNS, NEWCGROUP, NEWUTS, NEWIPC, NEWUSER, NEWPID, NEWNET: 0x7E020000. */
const CLONE_NEW = 2114060288n;

const words = (text: string) => text.trim().split(/\s+/);
const allow = (names: string, more: Partial<Rule> = {}): Rule => ({ names: words(names), action: "SCMP_ACT_ALLOW", ...more });
const withCap = (cap: string, names: string) => allow(names, { includes: { caps: [cap] } });
const onArches = (arches: string[], names: string) => allow(names, { includes: { arches } });
/** Argument `index` with its high 32 bits ignored equals `value`. */
const low32 = (index: number, value: bigint): ArgCondition => ({ index, op: "SCMP_CMP_MASKED_EQ", value: 0xffffffffn, valueTwo: value });
const refuse = (name: string, args: ArgCondition[]): Rule => ({ names: [name], action: "SCMP_ACT_ERRNO", errnoRet: E.EPERM, args });

const DEFAULT: Profile = {
  defaultAction: "SCMP_ACT_ERRNO",
  defaultErrnoRet: E.EPERM,
  syscalls: [
    refuse("ioctl", [low32(1, TIOCSTI)]),
    refuse("ioctl", [low32(1, TIOCLINUX)]),
    refuse("socket", [low32(0, AF_VSOCK)]),
    allow(`
      accept accept4 access adjtimex alarm bind brk cachestat capget capset chdir chmod chown chown32
      clock_adjtime clock_adjtime64 clock_getres clock_getres_time64 clock_gettime clock_gettime64
      clock_nanosleep clock_nanosleep_time64 close close_range connect copy_file_range creat
      dup dup2 dup3 epoll_create epoll_create1 epoll_ctl epoll_ctl_old epoll_pwait epoll_pwait2
      epoll_wait epoll_wait_old eventfd eventfd2 execve execveat exit exit_group
      faccessat faccessat2 fadvise64 fadvise64_64 fallocate fanotify_mark fchdir fchmod fchmodat
      fchmodat2 fchown fchown32 fchownat fcntl fcntl64 fdatasync fgetxattr flistxattr flock fork
      fremovexattr fsetxattr fstat fstat64 fstatat64 fstatfs fstatfs64 fsync ftruncate ftruncate64
      futex futex_requeue futex_time64 futex_wait futex_waitv futex_wake futimesat
      getcpu getcwd getdents getdents64
      getegid getegid32 geteuid geteuid32 getgid getgid32 getgroups getgroups32 getitimer
      getpeername getpgid getpgrp getpid getppid getpriority getrandom getresgid getresgid32
      getresuid getresuid32 getrlimit get_robust_list getrusage getsid getsockname getsockopt
      get_thread_area gettid gettimeofday getuid getuid32 getxattr getxattrat
      inotify_add_watch inotify_init inotify_init1 inotify_rm_watch io_cancel ioctl io_destroy
      io_getevents io_pgetevents io_pgetevents_time64 ioprio_get ioprio_set io_setup io_submit
      ipc kill landlock_add_rule landlock_create_ruleset landlock_restrict_self lchown lchown32
      lgetxattr link linkat listen listmount listxattr listxattrat llistxattr _llseek lremovexattr
      lseek lsetxattr lstat lstat64 madvise map_shadow_stack membarrier memfd_create memfd_secret
      mincore mkdir mkdirat mknod mknodat
      mlock mlock2 mlockall mmap mmap2 mprotect mq_getsetattr mq_notify mq_open
      mq_timedreceive mq_timedreceive_time64 mq_timedsend mq_timedsend_time64 mq_unlink mremap
      mseal msgctl msgget msgrcv msgsnd msync munlock munlockall munmap name_to_handle_at nanosleep
      newfstatat _newselect open openat openat2 pause pidfd_open pidfd_send_signal pipe pipe2
      pkey_alloc pkey_free pkey_mprotect poll ppoll ppoll_time64 prctl pread64 preadv preadv2
      prlimit64 process_mrelease pselect6 pselect6_time64 pwrite64 pwritev pwritev2
      read readahead readlink readlinkat readv recv recvfrom recvmmsg recvmmsg_time64 recvmsg
      remap_file_pages removexattr removexattrat rename renameat renameat2 restart_syscall rmdir rseq
      rt_sigaction rt_sigpending rt_sigprocmask rt_sigqueueinfo rt_sigreturn rt_sigsuspend
      rt_sigtimedwait rt_sigtimedwait_time64 rt_tgsigqueueinfo
      sched_getaffinity sched_getattr sched_getparam sched_get_priority_max sched_get_priority_min
      sched_getscheduler sched_rr_get_interval sched_rr_get_interval_time64 sched_setaffinity
      sched_setattr sched_setparam sched_setscheduler sched_yield seccomp select
      semctl semget semop semtimedop semtimedop_time64 send sendfile sendfile64 sendmmsg sendmsg
      sendto setfsgid setfsgid32 setfsuid setfsuid32 setgid setgid32 setgroups setgroups32
      setitimer setpgid setpriority setregid setregid32 setresgid setresgid32 setresuid
      setresuid32 setreuid setreuid32 setrlimit set_robust_list setsid setsockopt
      set_thread_area set_tid_address setuid setuid32 setxattr setxattrat shmat shmctl shmdt shmget
      shutdown sigaltstack signalfd signalfd4 sigprocmask sigreturn socketcall socketpair splice
      stat stat64 statfs statfs64 statmount statx symlink symlinkat sync sync_file_range syncfs sysinfo
      tee tgkill time timer_create timer_delete timer_getoverrun timer_gettime timer_gettime64
      timer_settime timer_settime64 timerfd_create timerfd_gettime timerfd_gettime64
      timerfd_settime timerfd_settime64 times tkill truncate truncate64 ugetrlimit umask uname
      unlink unlinkat uretprobe utime utimensat utimensat_time64 utimes vfork vmsplice wait4 waitid
      waitpid write writev`),
    allow("process_vm_readv process_vm_writev ptrace"),
    allow("socket"), // but AF_VSOCK, refused above
    // PER_LINUX, PER_LINUX32, UNAME26, UNAME26|PER_LINUX32, and 0xffffffff, which only asks
    ...[0n, 8n, 131072n, 131080n, 4294967295n].map((value) => allow("personality", { args: [{ index: 0, value, op: "SCMP_CMP_EQ" }] })),
    onArches(["ppc64le"], "sync_file_range2 swapcontext"),
    onArches(["arm", "arm64"], "arm_fadvise64_64 arm_sync_file_range sync_file_range2 breakpoint cacheflush set_tls"),
    onArches(["amd64", "x32"], "arch_prctl"),
    onArches(["amd64", "x32", "x86"], "modify_ldt"),
    onArches(["s390", "s390x"], "s390_pci_mmio_read s390_pci_mmio_write s390_runtime_instr"),
    onArches(["riscv64"], "riscv_flush_icache riscv_hwprobe"),
    withCap("CAP_DAC_READ_SEARCH", "open_by_handle_at"),
    withCap(
      "CAP_SYS_ADMIN",
      `
      bpf clone clone3 fanotify_init fsconfig fsmount fsopen fspick lookup_dcookie
      lsm_get_self_attr lsm_list_modules lsm_set_self_attr mount mount_setattr move_mount
      open_tree perf_event_open quotactl quotactl_fd setdomainname sethostname setns syslog
      umount umount2 unshare`,
    ),
    // without CAP_SYS_ADMIN, clone only without CLONE_NEW* flags (s390 passes them second)
    allow("clone", {
      args: [{ index: 0, value: CLONE_NEW, op: "SCMP_CMP_MASKED_EQ" }],
      excludes: { caps: ["CAP_SYS_ADMIN"], arches: ["s390", "s390x"] },
    }),
    allow("clone", {
      args: [{ index: 1, value: CLONE_NEW, op: "SCMP_CMP_MASKED_EQ" }],
      includes: { arches: ["s390", "s390x"] },
      excludes: { caps: ["CAP_SYS_ADMIN"] },
    }),
    // clone3's flags are behind a pointer, out of the filter's reach: E.ENOSYS makes libc use clone
    { names: ["clone3"], action: "SCMP_ACT_ERRNO", errnoRet: E.ENOSYS, excludes: { caps: ["CAP_SYS_ADMIN"] } },
    withCap("CAP_SYS_BOOT", "reboot"),
    withCap("CAP_SYS_CHROOT", "chroot"),
    withCap("CAP_SYS_MODULE", "delete_module init_module finit_module"),
    withCap("CAP_SYS_PACCT", "acct"),
    withCap("CAP_SYS_PTRACE", "kcmp pidfd_getfd process_madvise process_vm_readv process_vm_writev ptrace"),
    withCap("CAP_SYS_RAWIO", "iopl ioperm"),
    withCap("CAP_SYS_TIME", "settimeofday stime clock_settime clock_settime64"),
    withCap("CAP_SYS_TTY_CONFIG", "vhangup"),
    withCap("CAP_SYS_NICE", "get_mempolicy mbind set_mempolicy set_mempolicy_home_node"),
    withCap("CAP_SYSLOG", "syslog"),
    withCap("CAP_BPF", "bpf"),
    withCap("CAP_PERFMON", "perf_event_open"),
  ],
};

/**
 * Docker's default: everything not listed fails with EPERM; mount, unshare, setns, bpf,
 * module loading, reboot and the like only with the capability they need; keyctl,
 * add_key, request_key, kexec_load, userfaultfd and io_uring never; and no TIOCSTI.
 */
export function defaultProfile(): Profile {
  return DEFAULT;
}
