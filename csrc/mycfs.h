/* Internal interface between the files of libmycfs. */
#ifndef MYCFS_H
#define MYCFS_H
#include <stddef.h>
#include <stdint.h>
#include "protocol.h"

/* child.c: the routine the cloned child runs; never returns. */
__attribute__((noreturn)) void mycfs_child(const uint8_t *plan, size_t len, int sync_fd);

/* plan.c: bounds-checked access to the plan's records; NULL when malformed. */
const struct mycfs_plan_hdr *plan_header(const uint8_t *plan, size_t len);
const struct mycfs_op_hdr *plan_op(const uint8_t *plan, size_t len, size_t off);

/* channel.c: one message per packet on the sync socket; 0 (chan_recv: 1 for a message,
 * 0 at its end) or -errno. */
int chan_send(int fd, uint32_t kind, uint32_t step, int32_t err, uint64_t ns);
int chan_recv(int fd, struct mycfs_msg *m, int *passed);
int chan_send_fd(int fd, uint32_t kind, uint32_t step, int passed);

/* pty.c: a pty from the devpts on /dev/pts, its slave on fds 0-2; returns the master or -errno. */
int pty_onto_stdio(void);

/* api.c: clone a child that walks the plan (exported; join.c reuses it). */
int mycfs_spawn(const uint8_t *plan, uint32_t len, uint64_t flags, int cgroup_fd, int32_t *out);

/* resolve.c: paths below the container root that never lead out of it; an fd or -errno. */
enum create_kind { CREATE_NONE, CREATE_DIR, CREATE_FILE };
int open_in_root(int root_fd, const char *path, enum create_kind create);
int open_parent_in_root(int root_fd, const char *path, const char **name);
/* The same with other openat2 RESOLVE_* rules; paths are then relative to root_fd. */
int open_below(int root_fd, const char *path, enum create_kind create, uint64_t rules);
int open_parent_below(int root_fd, const char *path, const char **name, enum create_kind create, uint64_t rules);

/* unpack.c: archive entries created below an image's root (store.c copies with them). */
enum entry_kind { ENTRY_DIR = 1, ENTRY_SYMLINK = 2, ENTRY_HARDLINK = 3, ENTRY_NODE = 4 };
int mycfs_open_root(const char *path);
int mycfs_close_root(int root);
int mycfs_entry_file(int root, const char *path);
int mycfs_entry_file_done(int fd, int32_t uid, int32_t gid, uint32_t mode, double mtime);
int mycfs_entry_make(int root, const char *path, uint32_t kind, uint32_t mode, uint32_t major,
                     uint32_t minor, const char *target, int32_t uid, int32_t gid, double mtime);
int mycfs_entry_dir_done(int root, const char *path, int32_t uid, int32_t gid, uint32_t mode, double mtime);

/* api.c: write all of buf to fd; 0 or -errno. */
int mycfs_write(int fd, const uint8_t *buf, uint32_t len);

/* exec.c: PATH search like execvpe, but with the container's PATH. */
int exec_search(const char *path_list, char *const argv[], char *const envp[]);

/* init.c: a tiny PID 1 that runs the command, forwards signals, reaps zombies. */
__attribute__((noreturn)) void run_init(int sync_fd, uint32_t step, int ctty, const char *path_list,
                                        char *const argv[], char *const envp[]);
#endif
