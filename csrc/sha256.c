/* SHA-256 (FIPS 180-4), for the gunzip thread to hash a local archive as it reads it:
 * with the CPU's SHA instructions where it has them (x86_64's SHA-NI: 1.5 GB/s here, the
 * portable rounds 0.3), as the thread also inflates, and a large image's hashing must
 * not make it the slower of the two. The host's libcrypto was measured first: OpenSSL 3
 * takes 4 ms to load and set up and 2 ms to clean up at exit, more than a small image's
 * hashing costs. (-DSHA256_PORTABLE: the portable rounds only, which the tests check too.) */
#include <string.h>
#include "sha256.h"
#if defined(__x86_64__) && !defined(SHA256_PORTABLE)
#include <cpuid.h>
#include <immintrin.h>
#endif

static const uint32_t K[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

#define ROR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

static void portable_block(uint32_t h[8], const uint8_t *p) {
  uint32_t w[64];
  for (int i = 0; i < 16; i++)
    w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 | (uint32_t)p[4 * i + 2] << 8 | p[4 * i + 3];
  for (int i = 16; i < 64; i++) {
    uint32_t s0 = ROR(w[i - 15], 7) ^ ROR(w[i - 15], 18) ^ (w[i - 15] >> 3);
    uint32_t s1 = ROR(w[i - 2], 17) ^ ROR(w[i - 2], 19) ^ (w[i - 2] >> 10);
    w[i] = w[i - 16] + s0 + w[i - 7] + s1;
  }
  uint32_t a = h[0], b = h[1], c = h[2], d = h[3], e = h[4], f = h[5], g = h[6], k = h[7];
  for (int i = 0; i < 64; i++) {
    uint32_t t1 = k + (ROR(e, 6) ^ ROR(e, 11) ^ ROR(e, 25)) + ((e & f) ^ (~e & g)) + K[i] + w[i];
    uint32_t t2 = (ROR(a, 2) ^ ROR(a, 13) ^ ROR(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
    k = g, g = f, f = e, e = d + t1, d = c, c = b, b = a, a = t1 + t2;
  }
  h[0] += a, h[1] += b, h[2] += c, h[3] += d, h[4] += e, h[5] += f, h[6] += g, h[7] += k;
}

#if defined(__x86_64__) && !defined(SHA256_PORTABLE)
/* Four rounds per step on (ABEF, CDGH) state halves; the message schedule four words at
 * a time (sha256msg1/msg2), kept in a ring of four. */
__attribute__((target("sha,sse4.1"))) static void shani_blocks(uint32_t h[8], const uint8_t *p, size_t n) {
  const __m128i swap = _mm_set_epi64x(0x0c0d0e0f08090a0bULL, 0x0405060700010203ULL); /* big-endian words */
  __m128i t = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)&h[0]), 0xb1);      /* CDAB */
  __m128i s1 = _mm_shuffle_epi32(_mm_loadu_si128((const __m128i *)&h[4]), 0x1b);     /* EFGH */
  __m128i s0 = _mm_alignr_epi8(t, s1, 8);                                            /* ABEF */
  s1 = _mm_blend_epi16(s1, t, 0xf0);                                                 /* CDGH */
  for (; n; n--, p += 64) {
    __m128i abef = s0, cdgh = s1, w[4];
    for (int i = 0; i < 4; i++) w[i] = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)(p + 16 * i)), swap);
    for (int i = 0; i < 16; i++) {
      __m128i m = _mm_add_epi32(w[i & 3], _mm_loadu_si128((const __m128i *)&K[4 * i]));
      s1 = _mm_sha256rnds2_epu32(s1, s0, m);
      s0 = _mm_sha256rnds2_epu32(s0, s1, _mm_shuffle_epi32(m, 0x0e));
      if (i < 12) /* the words four steps on, in the place of these */
        w[i & 3] = _mm_sha256msg2_epu32(_mm_add_epi32(_mm_sha256msg1_epu32(w[i & 3], w[(i + 1) & 3]),
                                                      _mm_alignr_epi8(w[(i + 3) & 3], w[(i + 2) & 3], 4)),
                                        w[(i + 3) & 3]);
    }
    s0 = _mm_add_epi32(s0, abef);
    s1 = _mm_add_epi32(s1, cdgh);
  }
  t = _mm_shuffle_epi32(s0, 0x1b);                                  /* FEBA */
  s1 = _mm_shuffle_epi32(s1, 0xb1);                                 /* DCHG */
  _mm_storeu_si128((__m128i *)&h[0], _mm_blend_epi16(t, s1, 0xf0)); /* A, B, C, D */
  _mm_storeu_si128((__m128i *)&h[4], _mm_alignr_epi8(s1, t, 8));    /* E, F, G, H */
}

/* CPUID itself, on the first hash: __builtin_cpu_supports would link in libgcc's
 * constructor, which runs its CPUIDs (in a VM, each an exit to the hypervisor) at every
 * dlopen of libmycfs, that is at every start. */
static int have_sha_ni(void) {
  unsigned a, b, c, d;
  if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & bit_SSE4_1)) return 0;
  return __get_cpuid_count(7, 0, &a, &b, &c, &d) && (b & bit_SHA);
}
#endif

/* n whole blocks. */
static void blocks(uint32_t h[8], const uint8_t *p, size_t n) {
#if defined(__x86_64__) && !defined(SHA256_PORTABLE)
  static int sha = -1;
  if (sha < 0) sha = have_sha_ni();
  if (sha) {
    shani_blocks(h, p, n);
    return;
  }
#endif
  for (; n; n--, p += 64) portable_block(h, p);
}

void sha256_init(struct sha256 *s) {
  static const uint32_t iv[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
  memcpy(s->h, iv, sizeof iv);
  s->bytes = 0;
}

void sha256_update(struct sha256 *s, const uint8_t *p, size_t n) {
  size_t used = s->bytes % 64;
  s->bytes += n;
  if (used) {
    size_t take = 64 - used < n ? 64 - used : n;
    memcpy(s->buf + used, p, take);
    p += take, n -= take;
    if (used + take < 64) return;
    blocks(s->h, s->buf, 1);
  }
  blocks(s->h, p, n / 64);
  memcpy(s->buf, p + n / 64 * 64, n % 64);
}

void sha256_final(struct sha256 *s, uint8_t out[32]) {
  uint64_t bits = s->bytes * 8;
  uint8_t pad[72] = {0x80};
  size_t used = s->bytes % 64, len = (used < 56 ? 56 : 120) - used;
  for (int i = 0; i < 8; i++) pad[len + i] = (uint8_t)(bits >> (56 - 8 * i));
  sha256_update(s, pad, len + 8);
  for (int i = 0; i < 32; i++) out[i] = (uint8_t)(s->h[i / 4] >> (24 - 8 * (i % 4)));
}
