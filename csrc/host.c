/* Steps mycfs takes on the host, on a thread of their own, while the JavaScript thread
 * plans the container: making root's containers' network namespace (most of a
 * millisecond: its loopback device, sysctls and tables), which the child then enters.
 * TypeScript lists the steps in the plan's format; this walks them in order and stops at
 * the first that fails. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "mycfs.h"

#define MAX_STR 1

struct steps {
  pthread_t thread;
  uint8_t *plan;
  size_t len;
  int32_t failed, err, fd; /* the step that failed (-1: none) and its errno; a kept fd */
};

static struct steps *slots[8];

static int run_step(struct steps *s, const struct mycfs_op_hdr *op, const char *const *str) {
  switch (op->op) {
  /* the thread's own namespaces: nothing else of mycfs moves */
  case OP_UNSHARE: return unshare((int)op->a) == 0 ? 0 : errno;
  case OP_LOOPBACK: return mycfs_loopback_up();
  case OP_KEEP_FD:
    if (!str[0] || s->fd >= 0) return EINVAL;
    s->fd = open(str[0], O_RDONLY | O_CLOEXEC);
    return s->fd < 0 ? errno : 0;
  }
  return EINVAL;
}

static void *walk(void *arg) {
  struct steps *s = arg;
  const struct mycfs_plan_hdr *hdr = plan_header(s->plan, s->len);
  size_t off = sizeof(struct mycfs_plan_hdr);
  for (uint32_t i = 0; i < (hdr ? hdr->count : 1); i++) {
    const struct mycfs_op_hdr *op = hdr ? plan_op(s->plan, s->len, off) : NULL;
    const char *str[MAX_STR] = {0};
    int err = op && op->nstr <= MAX_STR ? 0 : EINVAL;
    for (uint32_t k = 0, at = 0; !err && k < op->nstr; k++) {
      str[k] = (const char *)(op + 1) + at;
      at += (uint32_t)strlen(str[k]) + 1;
    }
    if (!err) err = run_step(s, op, str);
    if (err) {
      s->failed = (int32_t)i;
      s->err = err;
      return NULL;
    }
    off += op->len;
  }
  return NULL;
}

/* Starts the steps on a new thread, with every signal blocked there (they are Bun's to
 * take). Returns a handle for mycfs_host_wait, or -errno. */
int mycfs_host_start(const uint8_t *plan, uint32_t len) {
  int slot = 0;
  while (slot < (int)(sizeof slots / sizeof *slots) && slots[slot]) slot++;
  if (slot == (int)(sizeof slots / sizeof *slots)) return -EAGAIN;
  struct steps *s = calloc(1, sizeof *s);
  uint8_t *copy = malloc(len);
  if (!s || !copy) {
    free(s);
    free(copy);
    return -ENOMEM;
  }
  memcpy(copy, plan, len);
  *s = (struct steps){.plan = copy, .len = len, .failed = -1, .fd = -1};
  sigset_t all, old;
  sigfillset(&all);
  pthread_sigmask(SIG_SETMASK, &all, &old);
  int rc = pthread_create(&s->thread, NULL, walk, s);
  pthread_sigmask(SIG_SETMASK, &old, NULL);
  if (rc) {
    free(copy);
    free(s);
    return -rc;
  }
  slots[slot] = s;
  return slot;
}

/* Waits for the steps: out = {the failed step or -1, its errno, the kept fd or -1}. */
int mycfs_host_wait(int slot, int32_t *out) {
  if (slot < 0 || slot >= (int)(sizeof slots / sizeof *slots) || !slots[slot]) return -EINVAL;
  struct steps *s = slots[slot];
  pthread_join(s->thread, NULL);
  slots[slot] = NULL;
  out[0] = s->failed;
  out[1] = s->err;
  out[2] = s->fd;
  free(s->plan);
  free(s);
  return 0;
}
