/* libFuzzer target: a plan as the child reads it (plan_header, plan_op in csrc/child/plan.c),
 * walked by mycfs_plan_dump (csrc/plan_dump.c) into an output buffer of 1 to 256 bytes
 * (the input's first byte), so that truncation is exercised too. Run by test/fuzz.test.ts. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "mycfs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  if (size < 1) return 0;
  size_t out_size = (size_t)data[0] + 1;
  data++;
  size--;
  /* exactly sized copies, aligned as the encoder's buffers are (malloc's 16 bytes) */
  uint8_t *plan = malloc(size ? size : 1);
  char *out = malloc(out_size);
  memcpy(plan, data, size);
  int n = mycfs_plan_dump(plan, (uint32_t)size, out, (uint32_t)out_size);
  if (n >= (int)out_size || (n > 0 && out[n] != '\0')) abort(); /* the length of a terminated string */
  free(out);
  free(plan);
  return 0;
}
