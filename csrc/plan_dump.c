/* mycfs_plan_dump shows the plan exactly as the child will read it, for `mycfs run
 * --dry-run` and for the encoding's unit tests. mycfs's side only (it uses stdio). */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
#include "mycfs.h"

/* One line per op: "code flags a b c" then each string after a tab. Returns the length
 * written (output truncated to size), or -1 if the plan is malformed. */
int mycfs_plan_dump(const uint8_t *plan, uint32_t len, char *out, uint32_t size) {
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
