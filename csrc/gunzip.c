/* gunzip on a thread of its own, as `tar -xz` runs gzip beside itself: compressed bytes go
 * in through one pipe, tar bytes come out of another, and the unpacker on the JavaScript
 * thread never waits for inflate (Bun's DecompressionStream runs on that thread). zlib is
 * the host's, opened on first use: a host without libz.so.1 gets -ENOSYS, and mycfs falls
 * back to Bun's own (src/images/decompress.ts). Reading a file itself, the thread also
 * computes its sha256 as it reads, so that the JavaScript thread, the one that unpacks,
 * does not (6 ms of a small image's 90 there). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include "mycfs.h"
#include "sha256.h"

#define CHUNK (128u << 10)

static struct {
  int (*init)(z_streamp, int, const char *, int);
  int (*inflate)(z_streamp, int);
  int (*reset)(z_streamp);
  int (*end)(z_streamp);
} z;

static int load_zlib(void) {
  static int loaded; /* 1 ok, -1 missing; JS calls this from one thread */
  if (!loaded) {
    void *lib = dlopen("libz.so.1", RTLD_NOW | RTLD_LOCAL);
    z.init = lib ? (int (*)(z_streamp, int, const char *, int))dlsym(lib, "inflateInit2_") : NULL;
    z.inflate = lib ? (int (*)(z_streamp, int))dlsym(lib, "inflate") : NULL;
    z.reset = lib ? (int (*)(z_streamp))dlsym(lib, "inflateReset") : NULL;
    z.end = lib ? (int (*)(z_streamp))dlsym(lib, "inflateEnd") : NULL;
    loaded = z.init && z.inflate && z.reset && z.end ? 1 : -1;
  }
  return loaded;
}

/* One job: the thread's pipe ends, how it ended, and the input's sha256 (file mode).
 * Freed by whichever of the thread and mycfs_gunzip_status lets go of it last. */
struct job {
  int in, out;
  atomic_int status; /* 0, or -errno: -EINVAL corrupt, -EPIPE truncated */
  atomic_int refs;
  int hashing;
  struct sha256 hash;
  uint8_t digest[32]; /* once status is 0 */
};

static void release(struct job *j) {
  if (atomic_fetch_sub(&j->refs, 1) == 1) free(j);
}

/* Inflates every gzip member of the input (gzip allows several, one after another) into
 * the output; what follows the last member and is not one (tape padding) is ignored, as
 * gzip does. The status is set before the output closes, so it is final at its EOF. */
static int gunzip(struct job *j, z_stream *s, uint8_t *in, uint8_t *out) {
  int ended = 1, members = 0, trailing = 0;
  for (;;) {
    ssize_t n = read(j->in, in, CHUNK);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return -errno;
    if (j->hashing) sha256_update(&j->hash, in, (size_t)n);
    if (n == 0) return ended || trailing ? 0 : -EPIPE;
    s->next_in = in;
    s->avail_in = (uInt)n;
    while (s->avail_in && !trailing) {
      if (ended) {
        if (members && s->next_in[0] != 0x1f) {
          trailing = 1;
          break;
        }
        if (z.reset(s) != Z_OK) return -EINVAL;
        ended = 0;
        members++;
      }
      uInt before = s->avail_in;
      s->next_out = out;
      s->avail_out = CHUNK;
      int rc = z.inflate(s, Z_NO_FLUSH);
      size_t made = CHUNK - s->avail_out;
      if (rc != Z_OK && rc != Z_STREAM_END && !(rc == Z_BUF_ERROR && (made || s->avail_in != before))) return -EINVAL;
      int err = mycfs_write(j->out, out, (uint32_t)made);
      if (err) return err;
      if (rc == Z_STREAM_END) ended = 1;
    }
  }
}

static void *run(void *arg) {
  struct job *j = arg;
  z_stream s = {0};
  uint8_t *in = malloc(CHUNK), *out = malloc(CHUNK);
  if (!in || !out) atomic_store(&j->status, -ENOMEM);
  else if (z.init(&s, 15 + 16, ZLIB_VERSION, (int)sizeof s) != Z_OK) atomic_store(&j->status, -EINVAL);
  else {
    int status = gunzip(j, &s, in, out);
    if (j->hashing && !status) sha256_final(&j->hash, j->digest);
    atomic_store(&j->status, status);
    z.end(&s);
  }
  free(in);
  free(out);
  close(j->in);
  close(j->out); /* the reader's EOF: status is set */
  release(j);
  return NULL;
}

/* Starts a gunzip thread. out[0] = where to write the compressed bytes (close it at their
 * end), out[1] = where the tar bytes come from; returns the job for mycfs_gunzip_status.
 * Given a file (path not empty), the thread reads it itself, and out[0] is -1: nothing
 * then waits for the JavaScript thread to pass the bytes on, and it computes the file's
 * sha256 as well. */
EXPORT void *mycfs_gunzip_start(const char *path, int32_t *out, int32_t *err) {
  *err = load_zlib() < 0 ? -ENOSYS : 0;
  if (*err) return NULL;
  int a[2] = {-1, -1}, b[2];
  if (path[0] ? (a[0] = open(path, O_RDONLY | O_CLOEXEC)) < 0 : pipe2(a, O_CLOEXEC) < 0) return *err = -errno, NULL;
  if (pipe2(b, O_CLOEXEC) < 0) {
    *err = -errno;
    close(a[0]);
    if (a[1] >= 0) close(a[1]);
    return NULL;
  }
  struct job *j = calloc(1, sizeof *j);
  pthread_t t;
  pthread_attr_t attr;
  pthread_attr_init(&attr);
  pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
  if (j) {
    j->in = a[0], j->out = b[1];
    if ((j->hashing = path[0] != 0)) sha256_init(&j->hash);
    atomic_init(&j->status, 0);
    atomic_init(&j->refs, 2);
  }
  int rc = j ? pthread_create(&t, &attr, run, j) : ENOMEM;
  pthread_attr_destroy(&attr);
  if (rc) {
    free(j);
    close(a[0]), close(b[0]), close(b[1]);
    if (a[1] >= 0) close(a[1]);
    *err = -rc;
    return NULL;
  }
  /* room for large reads: each read of the output is a turn of the event loop */
  if (a[1] >= 0) fcntl(a[1], F_SETPIPE_SZ, 1 << 20);
  fcntl(b[1], F_SETPIPE_SZ, 1 << 20);
  out[0] = a[1];
  out[1] = b[0];
  return j;
}

/* How the job ended (call at its output's EOF), or, if it is still running because the
 * reader gave up, 0 once it notices; either way the job is let go of. Given a file, and
 * with status 0, the file's sha256 goes to `digest`. */
EXPORT int mycfs_gunzip_status(void *job, uint8_t *digest) {
  struct job *j = job;
  int status = atomic_load(&j->status);
  if (!status) memcpy(digest, j->digest, sizeof j->digest);
  release(j);
  return status;
}
