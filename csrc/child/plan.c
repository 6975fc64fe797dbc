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

/* The bytes an op carries after its header instead of strings: OP_SECCOMP's program,
 * OP_SETID's gids (at most the kernel's NGROUPS_MAX); -1 for an op with strings, or a count
 * out of bounds. */
static int64_t blob_len(const struct mycfs_op_hdr *op) {
  if (op->op == OP_SECCOMP) return op->a <= UINT32_MAX ? (int64_t)op->a : INT64_MAX;
  if (op->op == OP_SETID) return op->c <= 65536 ? (int64_t)op->c * 4 : INT64_MAX;
  return -1;
}

/* The record at off, if it lies inside the plan and its strings (or raw bytes) are too. */
const struct mycfs_op_hdr *plan_op(const uint8_t *plan, size_t len, size_t off) {
  const struct mycfs_op_hdr *op = (const void *)(plan + off);
  if (off + sizeof *op > len || op->len < sizeof *op || op->len % 8 || off + op->len > len) return NULL;
  int64_t blob = blob_len(op);
  if (blob >= 0) return op->nstr == 0 && (uint64_t)blob <= op->len - sizeof *op ? op : NULL;
  const char *p = (const char *)(op + 1), *end = (const char *)op + op->len;
  for (uint32_t i = 0; i < op->nstr; i++) {
    const char *nul = memchr(p, '\0', (size_t)(end - p));
    if (!nul) return NULL;
    p = nul + 1;
  }
  return op;
}
