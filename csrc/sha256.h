/* sha256.c: SHA-256, streamed. */
#ifndef MYCFS_SHA256_H
#define MYCFS_SHA256_H
#include <stddef.h>
#include <stdint.h>

struct sha256 {
  uint32_t h[8];
  uint64_t bytes;
  uint8_t buf[64];
};

void sha256_init(struct sha256 *s);
void sha256_update(struct sha256 *s, const uint8_t *p, size_t n);
void sha256_final(struct sha256 *s, uint8_t out[32]);

#endif
