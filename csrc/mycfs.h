/* Internal interface between the files of libmycfs. */
#ifndef MYCFS_H
#define MYCFS_H
#include <stddef.h>
#include <stdint.h>
#include "protocol.h"

/* What bun:ffi binds: the library is built with -fvisibility=hidden. Every function one
 * file gives another, or bun:ffi, is declared below (built with -Wmissing-prototypes). */
#define EXPORT __attribute__((visibility("default")))

/* call.c: the one symbol of mycfs's calls; the image functions below are bound apart. */
EXPORT int64_t mycfs_call(uint32_t fn, void *p0, void *p1, int64_t a, int64_t b, int64_t c, int64_t d);

/* child.c: the routine the cloned child runs; never returns. */
__attribute__((noreturn)) void mycfs_child(const uint8_t *plan, size_t len, int sync_fd);
/* child.c: every fd from `first` on is closed by the next execve; 0 or an errno. */
int cloexec_from(unsigned first);

/* api.c: a child that runs fn(arg) on a stack of its own until it execs, the calling
 * thread waiting meanwhile (CLONE_VFORK); its pid, or -errno. */
long clone_vfork(void (*fn)(void *), void *arg);

/* plan.c: bounds-checked access to the plan's records; NULL when malformed. */
const struct mycfs_plan_hdr *plan_header(const uint8_t *plan, size_t len);
const struct mycfs_op_hdr *plan_op(const uint8_t *plan, size_t len, size_t off);

/* channel.c: one message per packet on the sync socket; 0 (chan_recv: 1 for a message,
 * 0 at its end) or -errno. */
int chan_send(int fd, uint32_t kind, uint32_t step, int32_t err, uint64_t ns);
int chan_recv(int fd, struct mycfs_msg *m, int *passed);
int chan_send_fd(int fd, uint32_t kind, uint32_t step, int passed);

/* pty.c: a pty from the devpts on the root's /dev/pts, its slave on fds 0-2; returns the
 * master or -errno. */
int pty_onto_stdio(int root_fd, uint32_t uid, uint32_t gid);

/* The functions TypeScript calls through mycfs_call (call.c), each 0 or a result on
 * success and -errno on failure: in api.c, join.c, state.c, store.c, terminal.c,
 * devices.c, plan_dump.c and layer_entry.c. */
int mycfs_spawn(const uint8_t *plan, uint32_t len, uint64_t flags, int cgroup_fd, int32_t *out);
int mycfs_recv(int fd, int32_t *out);
int mycfs_send(int fd, uint32_t kind, uint32_t step);
int mycfs_send_fd(int fd, uint32_t kind, uint32_t step, int passed);
int mycfs_reap(int pid);
int mycfs_copy_winsize(int from, int to);
int mycfs_pipe(int32_t *out);
int mycfs_isatty(int fd);
int mycfs_random(uint8_t *buf, uint32_t len);
const char *mycfs_strerror(int err);
const char *mycfs_errname(int err);
const char *mycfs_build_info(void);
int mycfs_close(int fd);
int mycfs_write(int fd, const uint8_t *buf, uint32_t len);
int mycfs_file_mode(const char *path);
int mycfs_mkdir(const char *path, uint32_t mode);
int mycfs_remove_tree(const char *path);
int mycfs_rmdir(const char *path);
int mycfs_access(const char *path, int mode);
int mycfs_getrlimit(int resource, int64_t *out);
/* mycfs_clone_tree's `recursive` bits (native/lib.ts's cloneTree sets them) */
#define CLONE_TREE_RECURSIVE 0x1 /* the mounts below it too */
#define CLONE_TREE_IDMAP_TOP 0x2 /* id-map only the top mount */
int mycfs_clone_tree(int dirfd, const char *path, int recursive, const char *userns_path);
int mycfs_open_path_dir(const char *path);
int mycfs_same_inode(int fd, const char *path);
int mycfs_mount(const char *strs, uint64_t flags);
int64_t mycfs_supervise(const char *args, uint32_t argc, const char *env, uint32_t envc);
int mycfs_power_off(void);
int mycfs_mkfifo(const char *path, uint32_t mode);
int mycfs_open_fifo(const char *path, int start);
int mycfs_send_console(const char *path, int fd, const char *name);
int mycfs_seccomp_flags(uint32_t flags);

/* oci_lifecycle.c: runc's start and delete, shared with the front (csrc/front/); no C
 * library. `dir`: the container's state directory. `dirs`: its cgroup's directories, a
 * list of names each ended by NUL, the list by an empty name; `lists` for oci_remove:
 * that, then the parents create made, the same way. */
int64_t oci_process_start(int pid);                                        /* -1: none, or a zombie */
int oci_status(const char *dir, const char *dirs, int pid, int64_t start); /* enum oci_status */
int oci_start(const char *dir); /* 0, or -errno (ENXIO: no container holds the fifo) */
int oci_wait_gone(int pid);     /* reaped if ours, else until /proc has it no more */
int oci_remove(const char *dir, const char *lists, int pid, int kill); /* 0, or -errno removing dir */
int mycfs_chown(const char *path, uint32_t uid, uint32_t gid);
int mycfs_open_dir(const char *path);
int64_t mycfs_fs_type(const char *path);
int mycfs_open_namespace(const char *path, uint32_t *out);
int mycfs_chmod(const char *path, uint32_t mode);
int mycfs_write_file(const char *path, const uint8_t *data, uint32_t len);
int mycfs_read_file(const char *path, uint8_t *buf, uint32_t size);
int mycfs_readlink(const char *path, uint8_t *buf, uint32_t size);
int mycfs_list_dir(const char *path, uint8_t *buf, uint32_t size);
int mycfs_plan_dump(const uint8_t *plan, uint32_t len, char *out, uint32_t size);
int mycfs_spawn_joined(const uint8_t *plan, uint32_t len, int32_t *io);
int mycfs_spawn_into(const uint8_t *plan, uint32_t len, int pidfd, int cgroup_fd, int32_t *out);
int mycfs_pidfd_open(int pid);
int mycfs_pidfd_signal(int pidfd, int sig);
int mycfs_pidfd_wait(int pidfd, int timeout_ms);
int mycfs_set_dumpable(int on);
int mycfs_tty_raw(int fd, uint8_t *saved, uint32_t size);
int mycfs_tty_restore(int fd, const uint8_t *saved, uint32_t size);
int mycfs_replace_file(const char *path, const uint8_t *data, uint32_t len, uint32_t mode);
int mycfs_symlink(const char *target, const char *path);
int mycfs_unlink(const char *path);
int mycfs_dup2(int from, int to);
int mycfs_lock(const char *path, int exclusive, int wait);
int mycfs_rename(const char *from, const char *to);
int mycfs_device_number(const char *path, uint32_t *out);
int mycfs_attach_device_filter(const char *cgroup_dir, const uint8_t *insns, uint32_t len);
int mycfs_netlink(const uint8_t *req, uint32_t len, int pid, uint8_t *reply, uint32_t cap);
int mycfs_layer_entry(int dirfd, const char *path, uint8_t *buf, uint32_t size, int contents);

/* How mycfs exec enters a container (join.c starts enter/main.c): what the enter program
 * reads from the fd its argv[1] names, this header then the plan; the fd OP_ENTER reports
 * the pid on; and the program itself, embedded in the library (enter_image.c). */
#define ENTER_MAGIC 0x746e656du /* "ment" */
struct enter_args {
  uint32_t magic;
  uint32_t plan_len;
  int32_t sync_fd, report_fd;
};
extern int enter_report_fd;
extern const uint8_t mycfs_enter_image[], mycfs_enter_image_end[];

/* resolve.c: paths below the container root that never lead out of it; an fd or -errno. */
enum create_kind { CREATE_NONE, CREATE_DIR, CREATE_FILE };
int open_in_root(int root_fd, const char *path, enum create_kind create);
/* An existing file below the root, opened with these open(2) flags. */
int open_file_in_root(int root_fd, const char *path, int flags);
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
int mycfs_entry_make(int root, const char *path, uint32_t kind, uint32_t mode, uint32_t major, uint32_t minor,
                     const char *target, int32_t uid, int32_t gid, double mtime);
int mycfs_entry_dir_done(int root, const char *path, int32_t uid, int32_t gid, uint32_t mode, double mtime);
int mycfs_entry_whole_file(int root, const char *path, const uint8_t *data, uint32_t len, int32_t uid, int32_t gid,
                           uint32_t mode, double mtime);
int mycfs_entry_xattr(int root, const char *path, const char *key, const uint8_t *value, uint32_t len);

/* tar_headers.c, gunzip.c, store.c: checking, inflating, copying and saving images. */
int mycfs_tar_headers_ok(const uint8_t *buf, uint32_t len);
void *mycfs_gunzip_start(const char *path, int32_t *out, int32_t *err);
int mycfs_gunzip_status(void *job, uint8_t *digest);
double mycfs_free_bytes(int fd);
int mycfs_copy_tree(const char *src, const char *dst);
int mycfs_read_xattrs(const char *path, uint8_t *buf, uint32_t size);

/* exec.c: PATH search like execvpe, but with the container's PATH. */
int exec_search(const char *path_list, char *const argv[], char *const envp[]);

/* init.c: a tiny PID 1 that runs the command, forwards signals, reaps zombies. */
__attribute__((noreturn)) void run_init(int sync_fd, uint32_t step, int ctty, const char *path_list, char *const argv[],
                                        char *const envp[]);
#endif
