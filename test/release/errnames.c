/* Prints libmycfs's name for every errno (CALL_ERRNAME through mycfs_call), one
 * "N NAME" line each: built for glibc and for musl, the two lists must be the same. */
#include <dlfcn.h>
#include <stdint.h>
#include <stdio.h>
#include "../../csrc/protocol.h"

typedef int64_t (*call_fn)(uint32_t, void *, void *, int64_t, int64_t, int64_t, int64_t);

int main(int argc, char **argv) {
  void *lib = argc == 2 ? dlopen(argv[1], RTLD_NOW) : NULL;
  if (!lib) {
    fprintf(stderr, "usage: errnames LIBMYCFS (%s)\n", dlerror());
    return 1;
  }
  call_fn call = (call_fn)dlsym(lib, "mycfs_call");
  for (int e = 1; e < 134; e++) printf("%d %s\n", e, (const char *)(intptr_t)call(CALL_ERRNAME, 0, 0, e, 0, 0, 0));
  return 0;
}
