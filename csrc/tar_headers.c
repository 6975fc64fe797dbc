/* The checks of an archive's header blocks that modern-tar's strict mode makes in
 * JavaScript, where summing 512 bytes per header costs more than unpacking the entry
 * (src/images/unpack.ts drives modern-tar unstrict and asks here instead). */
#include <stdint.h>
#include <string.h>
#include "mycfs.h"

/* A numeric field: octal digits (NULs and spaces around them), or GNU's base-256 with
 * the high bit set. -1 if it is neither. */
static int64_t number(const uint8_t *f, int size) {
  int64_t v = 0;
  if (f[0] & 0x80) {
    v = f[0] & 0x7f;
    for (int i = 1; i < size; i++) {
      if (v > (INT64_MAX >> 8)) return -1;
      v = v * 256 + f[i];
    }
    return v;
  }
  for (int i = 0; i < size && f[i] != 0; i++) {
    if (f[i] == ' ') continue;
    if (f[i] < '0' || f[i] > '7' || v > (INT64_MAX >> 3)) return -1;
    v = v * 8 + (f[i] - '0');
  }
  return v;
}

/* The stored checksum is the sum of the block's bytes, the checksum field counted as spaces. */
static int checksum_ok(const uint8_t *h) {
  int64_t sum = 8 * ' ';
  for (int i = 0; i < 512; i++)
    if (i < 148 || i >= 156) sum += h[i];
  return number(h + 148, 8) == sum;
}

/* buf holds an entry's headers as they lay in the stream: its meta headers (PAX 'x' and
 * 'g', GNU long names 'L' and 'K'), each with its body, then its own header block. 1 if
 * every header is sound and the meta ones lead exactly to the last block, else 0. */
EXPORT int mycfs_tar_headers_ok(const uint8_t *buf, uint32_t len) {
  if (len < 512 || len % 512) return 0;
  uint64_t off = 0, last = len - 512;
  while (off < last) {
    const uint8_t *h = buf + off;
    int64_t size = number(h + 124, 12);
    if (!memchr("xgLK", h[156], 4) || h[156] == 0 || size < 0 || !checksum_ok(h)) return 0;
    off += 512 + (((uint64_t)size + 511) & ~(uint64_t)511);
  }
  return off == last && checksum_ok(buf + last);
}
