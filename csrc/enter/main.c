/* mycfs-enter: how `mycfs exec` enters a running container. A process that the container
 * can see must hold nothing of mycfs's: not its memory (a tracer with CAP_SYS_PTRACE could
 * write into it) and not its executable (an O_PATH fd on /proc/PID/exe, reopened for
 * writing later, replaced the host's binary: runc CVE-2019-5736, CVE-2016-9962). So mycfs
 * starts this small static program from a sealed memfd (join.c), outside the container's
 * PID namespace, where nothing of the container sees it. It walks the exec plan: the steps
 * that touch the host's files (joining v1 cgroups) happen here; OP_ENTER then clones the
 * walker into the container's PID namespace as mycfs's own child (CLONE_PARENT), reports
 * its pid, and this process exits. The clone is a copy of this program, its executable the
 * sealed memfd, its fds only those mycfs kept for it.
 * Linked without a C library: raw system calls (../sys.h), the plan walker of child.c. */
#define _GNU_SOURCE
#include <sys/mman.h>
#include <sys/stat.h>
#include "../mycfs.h"
#include "../child/sys.h"

#if defined(__x86_64__)
__asm__(
    ".text\n.global _start\n_start:\n  xor %ebp, %ebp\n  mov %rsp, %rdi\n  and $-16, %rsp\n  call enter_main\n  hlt\n");
#elif defined(__aarch64__)
__asm__(".text\n.global _start\n_start:\n  mov x29, #0\n  mov x30, #0\n  mov x0, sp\n  bl enter_main\n  brk #0\n");
#endif

static int parse_fd(const char *s) {
  int n = 0;
  if (!s || !*s) return -1;
  for (; *s; s++) {
    if (*s < '0' || *s > '9') return -1;
    n = n * 10 + (*s - '0');
  }
  return n;
}

/* sp: the initial stack, argc then argv. argv[1] names the fd of struct enter_args and
 * the plan (join.c). */
__attribute__((noreturn, used)) void enter_main(long *sp) {
  int fd = sp[0] >= 2 ? parse_fd(((char **)(sp + 1))[1]) : -1;
  struct stat st;
  if (fd < 0 || sys(SYS_fstat, fd, &st) < 0 || (size_t)st.st_size < sizeof(struct enter_args)) sys_exit(125);
  long map = raw_syscall(SYS_mmap, 0, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
  if (map < 0) sys_exit(125);
  sys(SYS_close, fd);
  const struct enter_args *a = (const struct enter_args *)map;
  if (a->magic != ENTER_MAGIC || sizeof *a + a->plan_len > (size_t)st.st_size) sys_exit(125);
  enter_report_fd = a->report_fd;
  mycfs_child((const uint8_t *)(a + 1), a->plan_len, a->sync_fd);
}
