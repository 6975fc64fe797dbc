/* Looks the command up in the container's PATH (not the host's, as execvpe would) and
 * reports the errno a shell would: EACCES if a candidate was found but not executable. */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <string.h>
#include <unistd.h>
#include "mycfs.h"

int exec_search(const char *path_list, char *const argv[], char *const envp[]) {
  const char *cmd = argv[0];
  if (strchr(cmd, '/')) {
    execve(cmd, argv, envp);
    return errno;
  }
  int seen_eacces = 0;
  size_t clen = strlen(cmd);
  for (const char *p = path_list;; p++) {
    const char *end = strchrnul(p, ':');
    char full[PATH_MAX];
    size_t dlen = (size_t)(end - p);
    if (dlen == 0) { dlen = 1; p = "."; }  /* empty entry means the working directory */
    if (dlen + 1 + clen < sizeof full) {
      memcpy(full, p, dlen);
      full[dlen] = '/';
      memcpy(full + dlen + 1, cmd, clen + 1);
      execve(full, argv, envp);
      if (errno == EACCES) seen_eacces = 1;
      else if (errno != ENOENT && errno != ENOTDIR) return errno;
    }
    if (*end == '\0') break;
    p = end;
  }
  return seen_eacces ? EACCES : ENOENT;
}
