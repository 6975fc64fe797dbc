/* A tiny static program the tests run inside containers (after crun's tests/init.c).
 *   probe facts    print what the process sees, as JSON
 *   probe orphan   leave a grandchild to be reparented to PID 1, then count zombies
 *   probe sleep N  sleep N seconds (a command with no shell around it) */
#define _GNU_SOURCE
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <sys/wait.h>
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
    if (fork() == 0) { usleep(100000); _exit(0); }  /* the orphan: exits after its parent */
    _exit(0);
  }
  waitpid(p, NULL, 0);
  usleep(500000);
  printf("{\"zombies\":%d}\n", zombies());
}

int main(int argc, char **argv) {
  setvbuf(stdout, NULL, _IOFBF, 1 << 16);
  if (argc >= 2 && !strcmp(argv[1], "facts")) facts();
  else if (argc >= 2 && !strcmp(argv[1], "orphan")) orphan();
  else if (argc >= 3 && !strcmp(argv[1], "sleep")) sleep((unsigned)atoi(argv[2]));
  else { fprintf(stderr, "usage: probe facts|orphan|sleep N\n"); return 2; }
  fflush(stdout);
  return 0;
}
