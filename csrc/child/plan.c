/* Reading the plan TypeScript encoded (layout in protocol.h). The child uses these
 * checks before it trusts a record (plan_dump.c shows the plan through them). */
#define _GNU_SOURCE
#include <string.h>
#include "../mycfs.h"

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
