// The errno values mycfs acts on, by name: one table (Linux's numbers, the same on x86_64
// and arm64). Messages name an errno by its symbol through libmycfs (errnoMessage).
export const E = {
  EPERM: 1,
  ENOENT: 2,
  ESRCH: 3,
  ENOEXEC: 8,
  EAGAIN: 11,
  EACCES: 13,
  EBUSY: 16,
  EEXIST: 17,
  EXDEV: 18,
  ENOTDIR: 20,
  EINVAL: 22,
  ENOTTY: 25,
  ENOSPC: 28,
  EROFS: 30,
  EPIPE: 32,
  ERANGE: 34,
  ENAMETOOLONG: 36,
  ENOSYS: 38,
  ELOOP: 40,
  EOPNOTSUPP: 95,
} as const;
