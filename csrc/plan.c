/* Reading the plan TypeScript encoded (layout in protocol.h). The child uses these
 * checks before it trusts a record; mycfs_plan_dump shows the plan exactly as the
 * child will read it, for `mycfs run --dry-run` and for the encoding's unit tests. */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
#include "mycfs.h"

const struct mycfs_plan_hdr *plan_header(const uint8_t *plan, size_t len) {
  const struct mycfs_plan_hdr *hdr = (const void *)plan;
  if (len < sizeof *hdr || hdr->magic != MYCFS_PLAN_MAGIC || hdr->version != MYCFS_PLAN_VERSION) return NULL;
  return hdr;
}

/* The record at off, if it lies inside the plan and its strings are terminated. */
const struct mycfs_op_hdr *plan_op(const uint8_t *plan, size_t len, size_t off) {
  const struct mycfs_op_hdr *op = (const void *)(plan + off);
  if (off + sizeof *op > len || op->len < sizeof *op || op->len % 8 || off + op->len > len) return NULL;
  if (op->op == OP_SECCOMP) return op->nstr == 0 && op->a <= op->len - sizeof *op ? op : NULL;
  const char *p = (const char *)(op + 1), *end = (const char *)op + op->len;
  for (uint32_t i = 0; i < op->nstr; i++) {
    const char *nul = memchr(p, '\0', (size_t)(end - p));
    if (!nul) return NULL;
    p = nul + 1;
  }
  return op;
}

/* One line per op: "code flags a b c" then each string after a tab. Returns the length
 * written (output truncated to size), or -1 if the plan is malformed. */
__attribute__((visibility("default"))) int mycfs_plan_dump(const uint8_t *plan, uint32_t len, char *out, uint32_t size) {
  const struct mycfs_plan_hdr *hdr = plan_header(plan, len);
  if (!hdr || size == 0) return -1;
  size_t n = 0, off = sizeof *hdr;
#define PUT(...) n += (size_t)snprintf(out + (n < size ? n : size - 1), n < size ? size - n : 1, __VA_ARGS__)
  for (uint32_t i = 0; i < hdr->count; i++, off += ((const struct mycfs_op_hdr *)(plan + off))->len) {
    const struct mycfs_op_hdr *op = plan_op(plan, len, off);
    if (!op) return -1;
    PUT("%u %u %lld %lld %lld", op->op, op->flags, (long long)op->a, (long long)op->b, (long long)op->c);
    const char *p = (const char *)(op + 1);
    for (uint32_t s = 0; s < op->nstr; s++, p += strlen(p) + 1) PUT("\t%s", p);
    PUT("\n");
  }
#undef PUT
  return (int)(n < size ? n : size - 1);
}
