/* The few keys of state.json that start and delete need (src/oci/state.ts's Saved): pid,
 * startTime, cgroupDirs, cgroupParents and whether hooks has any for them. mycfs writes
 * the file itself (JSON.stringify), so this is a strict scanner of that output rather than
 * a JSON library: anything else (an escape in a path it needs, a number it does not
 * expect, more depth than mycfs writes) fails, and the slow path reads the file instead. */
#include "front.h"
#include <string.h>

static const char *p, *end;

static void ws(void) {
  while (p < end && (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r')) p++;
}

static int eat(char c) {
  ws();
  if (p >= end || *p != c) return 0;
  p++;
  return 1;
}

/* A string's bytes (between the quotes); `plain`: no escape allowed in it. */
static int string(const char **s, size_t *n, int plain) {
  if (!eat('"')) return 0;
  *s = p;
  for (; p < end && *p != '"'; p++) {
    if ((unsigned char)*p < 0x20) return 0;
    if (*p == '\\') {
      if (plain || ++p >= end) return 0;
    }
  }
  if (p >= end) return 0;
  *n = (size_t)(p++ - *s);
  return 1;
}

static int integer(int64_t *v) {
  ws();
  if (p >= end || *p < '0' || *p > '9') return 0;
  for (*v = 0; p < end && *p >= '0' && *p <= '9'; p++) {
    if (*v > (INT64_MAX - 9) / 10) return 0;
    *v = *v * 10 + (*p - '0');
  }
  return p >= end || (*p != '.' && *p != 'e' && *p != 'E');
}

static int value(int depth);

/* [value, …] or {"key": value, …}; each for `item` (NULL: skip it). */
static int items(char close, int depth, int (*item)(const char *key, size_t klen, void *ctx), void *ctx) {
  if (eat(close)) return 1;
  do {
    const char *key = 0;
    size_t klen = 0;
    if (close == '}' && (!string(&key, &klen, 0) || !eat(':'))) return 0;
    if (!(item ? item(key, klen, ctx) : value(depth + 1))) return 0;
  } while (eat(','));
  return eat(close);
}

static int value(int depth) {
  const char *s;
  size_t n;
  int64_t v;
  ws();
  if (depth > 16 || p >= end) return 0;
  if (*p == '"') return string(&s, &n, 0);
  if (*p == '{' || *p == '[') return p++, items(p[-1] == '{' ? '}' : ']', depth, 0, 0);
  if (*p == '-') p++;
  if (p < end && *p >= '0' && *p <= '9') {
    integer(&v);
    while (p < end && ((*p >= '0' && *p <= '9') || *p == '.' || *p == 'e' || *p == 'E' || *p == '+' || *p == '-')) p++;
    return 1;
  }
  for (const char *lit[] = {"true", "false", "null"}, **l = lit; l < lit + 3; l++)
    if ((size_t)(end - p) >= strlen(*l) && !memcmp(p, *l, strlen(*l))) return p += strlen(*l), 1;
  return 0;
}

static int is(const char *key, size_t n, const char *name) { return n == strlen(name) && !memcmp(key, name, n); }

/* A list of strings into the NUL-separated list at *out (struct saved's lists). */
struct list {
  char *at, *limit;
};
static int list_item(const char *key, size_t klen, void *ctx) {
  struct list *l = ctx;
  const char *s;
  size_t n;
  (void)key, (void)klen;
  if (!string(&s, &n, 1) || n == 0 || l->limit - l->at < (long)n + 2) return 0;
  memcpy(l->at, s, n);
  l->at += n;
  *l->at++ = 0;
  return 1;
}
static int string_list(struct list *l) {
  if (!eat('[') || !items(']', 1, list_item, l) || l->at >= l->limit) return 0;
  *l->at++ = 0;
  return 1;
}

/* hooks: whether a list that matters is anything but [] */
static int hook_item(const char *key, size_t klen, void *ctx) {
  struct saved *s = ctx;
  int *any = is(key, klen, "startContainer") || is(key, klen, "poststart") ? &s->start_hooks
             : is(key, klen, "poststop")                                   ? &s->delete_hooks
                                                                           : 0;
  ws();
  const char *at = p;
  if (!value(2)) return 0;
  const char *after = p;
  if (any && !(*at == '[' && (p = at + 1, eat(']')) && p == after)) *any = 1;
  p = after;
  return 1;
}

struct top {
  struct saved *s;
  int have;
  char dirs[sizeof((struct saved *)0)->lists], parents[sizeof((struct saved *)0)->lists];
  struct list d, pa;
};
static int top_item(const char *key, size_t klen, void *ctx) {
  struct top *t = ctx;
  int64_t v;
  if (is(key, klen, "pid")) return integer(&v) && v > 0 && v < 1 << 30 && (t->s->pid = (int)v, t->have |= 1);
  if (is(key, klen, "startTime")) return integer(&t->s->start_time) && (t->have |= 2);
  if (is(key, klen, "cgroupDirs")) return string_list(&t->d) && (t->have |= 4);
  if (is(key, klen, "cgroupParents")) return string_list(&t->pa) && (t->have |= 8);
  if (is(key, klen, "hooks")) return eat('{') && items('}', 1, hook_item, t->s);
  return value(1);
}

int parse_state(const char *text, size_t len, struct saved *s) {
  static struct top t;
  memset(&t, 0, sizeof t);
  memset(s, 0, sizeof *s);
  t.s = s;
  t.d = (struct list){t.dirs, t.dirs + sizeof t.dirs};
  t.pa = (struct list){t.parents, t.parents + sizeof t.parents};
  p = text, end = text + len;
  if (!eat('{') || !items('}', 0, top_item, &t)) return -1;
  ws();
  /* pid, startTime and cgroupDirs are always written; cgroupParents since it was added */
  if (p != end || (t.have & 7) != 7) return -1;
  if (!(t.have & 8)) *t.pa.at++ = 0;
  size_t nd = (size_t)(t.d.at - t.dirs), np = (size_t)(t.pa.at - t.parents);
  if (nd + np > sizeof s->lists) return -1;
  memcpy(s->lists, t.dirs, nd);
  memcpy(s->lists + nd, t.parents, np);
  return 0;
}
