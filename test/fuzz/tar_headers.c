/* libFuzzer target: an entry's header blocks, as src/images/unpack.ts hands them to
 * mycfs_tar_headers_ok (csrc/tar_headers.c). Run by test/fuzz.test.ts. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int mycfs_tar_headers_ok(const uint8_t *buf, uint32_t len);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  /* a copy of exactly the input's size, so that ASan sees any read past its end */
  uint8_t *buf = malloc(size ? size : 1);
  memcpy(buf, data, size);
  int ok = mycfs_tar_headers_ok(buf, (uint32_t)size);
  free(buf);
  if (ok != 0 && ok != 1) abort();
  return 0;
}
