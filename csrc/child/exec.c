/* Looks the command up in the container's PATH (not the host's, as execvpe would) and
 * reports the errno a shell would: EACCES if a candidate was found but not executable.
 * Still the post-clone child: raw system calls (sys.h). */
#define _GNU_SOURCE
#include <errno.h>
#include <limits.h>
#include <string.h>
#include "../mycfs.h"
#include "sys.h"

int exec_search(const char *path_list, char *const argv[], char *const envp[]) {
  const char *cmd = argv[0];
  if (strchr(cmd, '/')) return (int)-sys(SYS_execve, cmd, argv, envp);
  int seen_eacces = 0;
  size_t clen = strlen(cmd);
  for (const char *p = path_list;; p++) {
    const char *end = strchrnul(p, ':');
    char full[PATH_MAX];
    size_t dlen = (size_t)(end - p);
    if (dlen == 0) {
      dlen = 1;
      p = ".";
    } /* empty entry means the working directory */
    if (dlen + 1 + clen < sizeof full) {
      memcpy(full, p, dlen);
      full[dlen] = '/';
      memcpy(full + dlen + 1, cmd, clen + 1);
      int err = (int)-sys(SYS_execve, full, argv, envp);
      if (err == EACCES) seen_eacces = 1;
      else if (err != ENOENT && err != ENOTDIR) return err;
    }
    if (*end == '\0') break;
    p = end;
  }
  return seen_eacces ? EACCES : ENOENT;
}
