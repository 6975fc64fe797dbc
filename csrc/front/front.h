/* The front (main.c): what its files give each other. */
#ifndef MYCFS_FRONT_H
#define MYCFS_FRONT_H
#include <stddef.h>
#include <stdint.h>

/* What start and delete need of a state.json (state_json.c). */
struct saved {
  int pid;
  int64_t start_time;
  /* the cgroup's directories, then the parents create made: oci_remove's lists */
  char lists[8192];
  /* whether the hooks run after start (startContainer, poststart) or delete (poststop) are any */
  int start_hooks, delete_hooks;
};

/* 0, or -1 for a file that is not what mycfs writes as it expects (the slow path then
 * reads it as JSON and says what is wrong). */
int parse_state(const char *text, size_t len, struct saved *s);

/* runtime.c: runs the Bun part, as the cached copy of it; never returns. */
__attribute__((noreturn)) void exec_runtime(char **argv, char **envp);

/* main.c */
int host_root(void);
/* s written at `at`, as much as fits before `limit` (where the NUL goes at the latest);
 * the end: `limit` itself if s may have been cut short. */
char *append(char *at, char *limit, const char *s);
const char *env_get(char **envp, const char *name);
/* Writes the strings, up to a NULL, to fd 2 as one line, and exits 1. */
__attribute__((noreturn)) void die(const char *first, ...);
#endif
