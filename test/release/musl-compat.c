/* What GCC's libstdc++.a, compiled on Debian for glibc, calls that musl does not have,
 * so that it can be linked into a libstdc++.so.6 for the test's musl root (test/release/
 * musl-root.ts): Debian packages no libstdc++ for musl, and Alpine's is out of reach.
 * Only the test root uses it; an Alpine host has its own libstdc++ (apk add libstdc++). */
#include <stddef.h>
#include <stdint.h>
#include <sys/auxv.h>
#include <sys/random.h>

/* glibc's flag that no second thread was ever started: 0, the safe answer */
char __libc_single_threaded = 0;

/* std::random_device's source */
uint32_t arc4random(void) {
  uint32_t v;
  while (getrandom(&v, sizeof v, 0) != (ssize_t)sizeof v) {}
  return v;
}

/* glibc 2.35's lookup for the unwinder; -1 makes it search with dl_iterate_phdr instead */
struct dl_find_object;
int _dl_find_object(void *pc, struct dl_find_object *result) {
  (void)pc;
  (void)result;
  return -1;
}

/* libgcc's check for arm64's atomic instructions (LSE) at load */
unsigned long __getauxval(unsigned long type);
unsigned long __getauxval(unsigned long type) { return getauxval(type); }

/* transactional memory (libitm), which nothing here uses */
void _ITM_registerTMCloneTable(void *table, size_t n) {
  (void)table;
  (void)n;
}
void _ITM_deregisterTMCloneTable(void *table) { (void)table; }
