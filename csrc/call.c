/* The one function bun:ffi binds for mycfs's calls. bun:ffi compiles a trampoline for
 * every symbol it binds, at each start (12 us each; for 40 symbols, half a millisecond
 * of a container's start): so TypeScript calls them all through this switch, by number
 * (enum mycfs_call), with up to two pointers and four integers. A pointer result (a
 * message) comes back as an integer. */
#include <stdint.h>
#include "mycfs.h"

EXPORT int64_t mycfs_call(uint32_t fn, void *p0, void *p1, int64_t a, int64_t b, int64_t c, int64_t d) {
  switch ((enum mycfs_call)fn) {
    case CALL_SPAWN: return mycfs_spawn(p0, (uint32_t)a, (uint64_t)b, (int)c, p1);
    case CALL_RECV: return mycfs_recv((int)a, p0);
    case CALL_SEND: return mycfs_send((int)a, (uint32_t)b, (uint32_t)c);
    case CALL_SEND_FD: return mycfs_send_fd((int)a, (uint32_t)b, (uint32_t)c, (int)d);
    case CALL_REAP: return mycfs_reap((int)a);
    case CALL_COPY_WINSIZE: return mycfs_copy_winsize((int)a, (int)b);
    case CALL_PIPE: return mycfs_pipe(p0);
    case CALL_ISATTY: return mycfs_isatty((int)a);
    case CALL_RANDOM: return mycfs_random(p0, (uint32_t)a);
    case CALL_STRERROR: return (int64_t)(intptr_t)mycfs_strerror((int)a);
    case CALL_ERRNAME: return (int64_t)(intptr_t)mycfs_errname((int)a);
    case CALL_CLOSE: return mycfs_close((int)a);
    case CALL_WRITE: return mycfs_write((int)a, p0, (uint32_t)b);
    case CALL_FILE_MODE: return mycfs_file_mode(p0);
    case CALL_MKDIR: return mycfs_mkdir(p0, (uint32_t)a);
    case CALL_REMOVE_TREE: return mycfs_remove_tree(p0);
    case CALL_RMDIR: return mycfs_rmdir(p0);
    case CALL_ACCESS: return mycfs_access(p0, (int)a);
    case CALL_LAYER_ENTRY: return mycfs_layer_entry((int)a, p0, p1, (uint32_t)b, (int)c);
    case CALL_GETRLIMIT: return mycfs_getrlimit((int)a, p0);
    case CALL_CLONE_TREE: return mycfs_clone_tree((int)a, p0, (int)b, p1);
    case CALL_OPEN_PATH_DIR: return mycfs_open_path_dir(p0);
    case CALL_SAME_INODE: return mycfs_same_inode((int)a, p0);
    case CALL_CHOWN: return mycfs_chown(p0, (uint32_t)a, (uint32_t)b);
    case CALL_OPEN_DIR: return mycfs_open_dir(p0);
    case CALL_FS_TYPE: return mycfs_fs_type(p0);
    case CALL_OPEN_NAMESPACE: return mycfs_open_namespace(p0, p1);
    case CALL_CHMOD: return mycfs_chmod(p0, (uint32_t)a);
    case CALL_WRITE_FILE: return mycfs_write_file(p0, p1, (uint32_t)a);
    case CALL_READ_FILE: return mycfs_read_file(p0, p1, (uint32_t)a);
    case CALL_READLINK: return mycfs_readlink(p0, p1, (uint32_t)a);
    case CALL_LIST_DIR: return mycfs_list_dir(p0, p1, (uint32_t)a);
    case CALL_PLAN_DUMP: return mycfs_plan_dump(p0, (uint32_t)a, p1, (uint32_t)b);
    case CALL_SPAWN_JOINED: return mycfs_spawn_joined(p0, (uint32_t)a, p1);
    case CALL_SPAWN_INTO: return mycfs_spawn_into(p0, (uint32_t)a, (int)b, (int)c, p1);
    case CALL_PIDFD_OPEN: return mycfs_pidfd_open((int)a);
    case CALL_PIDFD_SIGNAL: return mycfs_pidfd_signal((int)a, (int)b);
    case CALL_PIDFD_WAIT: return mycfs_pidfd_wait((int)a, (int)b);
    case CALL_SET_DUMPABLE: return mycfs_set_dumpable((int)a);
    case CALL_TTY_RAW: return mycfs_tty_raw((int)a, p0, (uint32_t)b);
    case CALL_TTY_RESTORE: return mycfs_tty_restore((int)a, p0, (uint32_t)b);
    case CALL_REPLACE_FILE: return mycfs_replace_file(p0, p1, (uint32_t)a, (uint32_t)b);
    case CALL_SYMLINK: return mycfs_symlink(p0, p1);
    case CALL_UNLINK: return mycfs_unlink(p0);
    case CALL_DUP2: return mycfs_dup2((int)a, (int)b);
    case CALL_RENAME: return mycfs_rename(p0, p1);
    case CALL_MOUNT: return mycfs_mount(p0, (uint64_t)a);
    case CALL_SUPERVISE: return mycfs_supervise(p0, (uint32_t)a, p1, (uint32_t)b);
    case CALL_POWER_OFF: return mycfs_power_off();
    case CALL_BUILD_INFO: return (int64_t)(intptr_t)mycfs_build_info();
    case CALL_MKFIFO: return mycfs_mkfifo(p0, (uint32_t)a);
    case CALL_OPEN_FIFO: return mycfs_open_fifo(p0, (int)a);
    case CALL_OCI_PROCESS_START: return oci_process_start((int)a);
    case CALL_OCI_STATUS: return oci_status(p0, p1, (int)a, b);
    case CALL_OCI_START: return oci_start(p0);
    case CALL_OCI_WAIT_GONE: return oci_wait_gone((int)a);
    case CALL_OCI_REMOVE: return oci_remove(p0, p1, (int)a, (int)b);
    case CALL_SEND_CONSOLE: return mycfs_send_console(p0, (int)a, p1);
    case CALL_SECCOMP_FLAGS: return mycfs_seccomp_flags(a);
    case CALL_LOCK: return mycfs_lock(p0, (int)a, (int)b);
    case CALL_DEVICE_NUMBER: return mycfs_device_number(p0, p1);
    case CALL_NETLINK: return mycfs_netlink(p0, (uint32_t)a, (int)b, p1, (uint32_t)c);
    case CALL_ATTACH_DEVICE_FILTER: return mycfs_attach_device_filter(p0, p1, (uint32_t)a);
  }
  return -38; /* ENOSYS: a number this library does not know */
}
