/* System calls for the code the cloned child runs. On x86_64 the child shares mycfs's
 * memory until it execs (CLONE_VM, see api.c), so it must not write errno: glibc keeps
 * errno in the thread-local storage of the thread that cloned it, and that thread goes on
 * running JavaScript. sys() returns the result or -errno and touches only registers; the
 * enter program (enter/main.c), linked without a C library, has nothing else. */
#ifndef MYCFS_SYS_H
#define MYCFS_SYS_H
#include <stdint.h>
#include <sys/syscall.h>

/* The last system call that failed, and its errno: which of a step's calls failed goes to
 * mycfs with the step's error (child.c). The child's own, though it may share memory with
 * mycfs: nothing but the child reads it. */
__attribute__((visibility("hidden"))) extern long sys_failed_nr;
__attribute__((visibility("hidden"))) extern int sys_failed_errno;
#define SYS_NOTE(n, ret) (ret < 0 && ret > -4096 ? (sys_failed_nr = n, sys_failed_errno = (int)-ret) : 0)

#if defined(__x86_64__)
static inline long raw_syscall(long n, long a, long b, long c, long d, long e, long f) {
  register long r10 __asm__("r10") = d;
  register long r8 __asm__("r8") = e;
  register long r9 __asm__("r9") = f;
  long ret;
  __asm__ volatile("syscall"
                   : "=a"(ret)
                   : "a"(n), "D"(a), "S"(b), "d"(c), "r"(r10), "r"(r8), "r"(r9)
                   : "rcx", "r11", "memory");
  SYS_NOTE(n, ret);
  return ret;
}
#elif defined(__aarch64__)
static inline long raw_syscall(long n, long a, long b, long c, long d, long e, long f) {
  register long x8 __asm__("x8") = n;
  register long x0 __asm__("x0") = a;
  register long x1 __asm__("x1") = b;
  register long x2 __asm__("x2") = c;
  register long x3 __asm__("x3") = d;
  register long x4 __asm__("x4") = e;
  register long x5 __asm__("x5") = f;
  __asm__ volatile("svc #0" : "+r"(x0) : "r"(x8), "r"(x1), "r"(x2), "r"(x3), "r"(x4), "r"(x5) : "memory");
  SYS_NOTE(n, x0);
  return x0;
}
#else
#error "mycfs runs on x86_64 and aarch64"
#endif

#define SYS_0(n) raw_syscall(n, 0, 0, 0, 0, 0, 0)
#define SYS_1(n, a) raw_syscall(n, (long)(a), 0, 0, 0, 0, 0)
#define SYS_2(n, a, b) raw_syscall(n, (long)(a), (long)(b), 0, 0, 0, 0)
#define SYS_3(n, a, b, c) raw_syscall(n, (long)(a), (long)(b), (long)(c), 0, 0, 0)
#define SYS_4(n, a, b, c, d) raw_syscall(n, (long)(a), (long)(b), (long)(c), (long)(d), 0, 0)
#define SYS_5(n, a, b, c, d, e) raw_syscall(n, (long)(a), (long)(b), (long)(c), (long)(d), (long)(e), 0)
#define SYS_PICK(_n, _1, _2, _3, _4, _5, which, ...) which
/* sys(SYS_name, args...): up to five arguments. */
#define sys(...) SYS_PICK(__VA_ARGS__, SYS_5, SYS_4, SYS_3, SYS_2, SYS_1, SYS_0, _)(__VA_ARGS__)

/* In functions that return 0 or a positive errno: return the errno of a failed call. */
#define TRY(call)                          \
  do {                                     \
    long try_rc_ = (call);                 \
    if (try_rc_ < 0) return (int)-try_rc_; \
  } while (0)

/* The kernel's struct sigaction, for rt_sigaction (glibc's differs). */
struct kernel_sigaction {
  void (*handler)(int);
  unsigned long flags;
  void (*restorer)(void);
  unsigned long mask; /* 64 signals */
};

/* The kernel's struct linux_dirent64, for getdents64 (no readdir without a C library). */
struct raw_dirent {
  uint64_t ino;
  int64_t off;
  unsigned short reclen;
  unsigned char type;
  char name[];
};

/* v in decimal at `at`, NUL-ended; the end (stdio is not for raw-syscall code). */
static inline char *put_uint(char *at, unsigned long v) {
  char digits[20];
  int d = 0;
  do digits[d++] = (char)('0' + v % 10);
  while ((v /= 10) > 0);
  while (d) *at++ = digits[--d];
  *at = 0;
  return at;
}

/* _exit without glibc (its exit handlers are the parent's). */
__attribute__((noreturn)) static inline void sys_exit(int code) {
  for (;;) sys(SYS_exit_group, code);
}
#endif
