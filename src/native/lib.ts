// libmycfs through bun:ffi. The library is embedded in the executable by
// `bun build --compile` and dlopen'ed from Bun's embedded file system.
import type { FFIFunction, FFIType, Library, Pointer } from "bun:ffi";
import libPath from "../../build/libmycfs.so" with { type: "file" };
import { MycfsError, SysError } from "../errors";
import type { RawOp } from "../plan/encode";
import { Call } from "./protocol";
import { E } from "../errno";

/** bun:ffi's functions without its module: `dlopen` there only throws the Error the native
 * one returns, and CString is the native class, but the module is compiled from source at
 * every start (about 1 ms). Bun is pinned (package.json); every test calls through here. */
const { dlopen: nativeDlopen, CString } = (Bun as unknown as { FFI: Pick<typeof import("bun:ffi"), "dlopen" | "CString"> }).FFI;
function dlopen<Fns extends Record<string, FFIFunction>>(path: string, symbols: Fns): Library<Fns> {
  const lib = nativeDlopen(path, symbols) as Library<Fns> | Error;
  if (lib instanceof Error) throw lib;
  return lib;
}

/** One symbol, mycfs_call, with every other function behind it by number (csrc/call.c):
 * bun:ffi compiles a trampoline for each symbol it binds, about 12 µs each at every start.
 * 15 is FFIType.i64_fast (an enum of bun:ffi's module). */
const callSymbol = {
  mycfs_call: { args: ["u32", "ptr", "ptr", "i64", "i64", "i64", "i64"], returns: 15 as FFIType.i64_fast },
} as const;

/** Installing and copying images: bound apart, only when an image is installed or copied,
 * as each symbol bound costs a trampoline (see callSymbol). */
const imageSymbols = {
  mycfs_open_root: { args: ["ptr"], returns: "i32" },
  mycfs_close_root: { args: ["i32"], returns: "i32" },
  mycfs_entry_file: { args: ["i32", "ptr"], returns: "i32" },
  mycfs_entry_file_done: { args: ["i32", "i32", "i32", "u32", "f64"], returns: "i32" },
  mycfs_entry_whole_file: { args: ["i32", "ptr", "ptr", "u32", "i32", "i32", "u32", "f64"], returns: "i32" },
  mycfs_entry_make: { args: ["i32", "ptr", "u32", "u32", "u32", "u32", "ptr", "i32", "i32", "f64"], returns: "i32" },
  mycfs_entry_dir_done: { args: ["i32", "ptr", "i32", "i32", "u32", "f64"], returns: "i32" },
  mycfs_entry_xattr: { args: ["i32", "ptr", "ptr", "ptr", "u32"], returns: "i32" },
  mycfs_tar_headers_ok: { args: ["ptr", "u32"], returns: "i32" },
  mycfs_gunzip_start: { args: ["ptr", "ptr", "ptr"], returns: "ptr" },
  mycfs_gunzip_status: { args: ["ptr", "ptr"], returns: "i32" },
  mycfs_free_bytes: { args: ["i32"], returns: "f64" },
  mycfs_copy_tree: { args: ["ptr", "ptr"], returns: "i32" },
  mycfs_read_xattrs: { args: ["ptr", "ptr", "u32"], returns: "i32" },
} as const;

type Ptr = Uint8Array | Int32Array | Uint32Array | BigInt64Array | null;
let lib: ReturnType<typeof dlopen<typeof callSymbol>>["symbols"]["mycfs_call"] | undefined;

/** libmycfs function `fn` (Call) with its pointer arguments, then its numbers. */
function call(fn: number, p0: Ptr = null, p1: Ptr = null, a = 0, b = 0, c = 0, d = 0): number {
  lib ??= dlopen(libPath, callSymbol).symbols.mycfs_call;
  return lib(fn, p0, p1, a, b, c, d) as number;
}

let imageLib: ReturnType<typeof dlopen<typeof imageSymbols>>["symbols"] | undefined;
function images() {
  imageLib ??= dlopen(libPath, imageSymbols).symbols;
  return imageLib;
}

// One convention for every function below: a failed call throws a SysError (its errno by
// symbol, and the operation with its path), with two kinds of exception, each named for it:
// `try*` functions return the errno (0: done) for callers that act on it, and lookups
// (fileMode, fileType, deviceNumber, readFile, readLink, listDir, pidfdOpen) return null
// for what is not there (ENOENT, ENOTDIR, ESRCH; for readLink, a file that is no link),
// throwing as the rest do otherwise.
function check(rc: number, what: string): number {
  if (rc < 0) throw new SysError(what, -rc, errnoMessage(-rc));
  return rc;
}

/** null where rc says the thing is not there, else check(rc). */
function lookup(rc: number, what: string): number | null {
  return rc === -E.ENOENT || rc === -E.ENOTDIR || rc === -E.ESRCH ? null : check(rc, what);
}

/** Clones a child into the namespaces in `flags` (and into the cgroup v2 directory open
 * as `cgroupFd`, if not -1); it walks `plan` and execs. */
export function spawn(plan: Uint8Array, flags: number, cgroupFd: number): { pid: number; sock: number } {
  const out = new Int32Array(2);
  check(call(Call.SPAWN, plan, out, plan.byteLength, flags, cgroupFd), "clone");
  return { pid: out[0]!, sock: out[1]! };
}

/** `fd`: a file descriptor the child passed along (the pty master), else -1. `us`: a step's
 * duration (MsgKind.DONE); for an error (MsgKind.ERROR), 1 + the number of the system call
 * that failed, or 0 if none did. */
export type Message = { kind: number; step: number; err: number; us: number; fd: number };

/** Blocks for the child's next message; null once the child has exec'd or died. */
export function recv(sock: number): Message | null {
  const out = new Int32Array(5);
  if (check(call(Call.RECV, out, null, sock), "read from the sync socket") === 0) return null;
  return { kind: out[0]!, step: out[1]!, err: out[2]!, us: out[3]!, fd: out[4]! };
}

export function send(sock: number, kind: number, step: number, fd?: number) {
  if (fd === undefined) check(call(Call.SEND, null, null, sock, kind, step), "write to the sync socket");
  else check(call(Call.SEND_FD, null, null, sock, kind, step, fd), "pass a mount to the child");
}

/** A detached copy of the mount at `at` (a path, or a directory fd), with the mounts below
 * it if `recursive`; id-mapped for the user namespace at `userns` if given (all its mounts,
 * or with `idmapTop` only the top one). */
export function cloneTree(at: string | number, what: string, o: { recursive?: boolean; userns?: string; idmapTop?: boolean } = {}): number {
  const [fd, path] = typeof at === "number" ? [at, ""] : [-100 /* AT_FDCWD */, at];
  const bits = (o.recursive ? 1 : 0) | (o.idmapTop ? 2 : 0); // mycfs.h's CLONE_TREE_RECURSIVE, CLONE_TREE_IDMAP_TOP
  return check(call(Call.CLONE_TREE, cstr(path), cstr(o.userns ?? ""), fd, bits), `make a${o.userns ? "n id-mapped" : ""} mount of ${what}`);
}

/** An O_PATH fd of the directory at path, its last component not followed. */
export const openPathDir = (path: string): number => check(call(Call.OPEN_PATH_DIR, cstr(path)), `open ${path}`);

/** Whether fd and path are the same inode. */
export const sameInode = (fd: number, path: string): boolean => check(call(Call.SAME_INODE, cstr(path), null, fd), `stat ${path}`) === 1;

export function chmod(path: string, mode: number) {
  check(call(Call.CHMOD, cstr(path), null, mode), `chmod ${path}`);
}

/** statfs(2)'s f_type for the file system holding path, or null. */
export function fsType(path: string): number | null {
  const t = Number(call(Call.FS_TYPE, cstr(path)));
  return t < 0 ? null : t;
}

/** An fd of the namespace file at path, for setns, its CLONE_NEW* type, its inode and its
 * owning user namespace's (0: not visible to us); type 0 (no fd) where the path is no
 * namespace file; null where it does not exist. */
export function openNamespace(path: string): { fd: number; type: number; inode: number; owner: number } | null {
  const out = new Uint32Array(3);
  const rc = call(Call.OPEN_NAMESPACE, cstr(path), out);
  if (rc === -E.ENOTTY) return { fd: -1, type: 0, inode: 0, owner: 0 };
  const fd = lookup(rc, `open ${path}`);
  return fd === null ? null : { fd, type: out[0]!, inode: out[1]!, owner: out[2]! };
}

export function openDir(path: string): number {
  return check(call(Call.OPEN_DIR, cstr(path)), `open ${path}`);
}

export function chown(path: string, uid: number, gid: number) {
  check(call(Call.CHOWN, cstr(path), null, uid, gid), `chown ${path}`);
}

/** pid's wait status if it has ended (and is now reaped), else null. */
export function reap(pid: number): number | null {
  const rc = call(Call.REAP, null, null, pid);
  return rc === -1 ? null : check(rc, `wait for process ${pid}`);
}

export function copyWinsize(from: number, to: number) {
  call(Call.COPY_WINSIZE, null, null, from, to);
}

/** Random bytes, as hex: crypto.getRandomValues costs 0.2 ms on first use. */
export function randomHex(bytes: number): string {
  const buf = new Uint8Array(bytes);
  check(call(Call.RANDOM, buf, null, bytes), "getrandom");
  return buf.toHex();
}

/** isatty(3), without loading node:tty (which costs milliseconds at startup). */
export function isatty(fd: number): boolean {
  return call(Call.ISATTY, null, null, fd) === 1;
}

export function pipe(): [read: number, write: number] {
  const out = new Int32Array(2);
  check(call(Call.PIPE, out), "create a pipe");
  return [out[0]!, out[1]!];
}

/** The plan as the C side decodes it: what the child will execute, number for number. */
export function decodePlan(plan: Uint8Array): RawOp[] {
  const out = new Uint8Array(plan.byteLength * 2 + 4096);
  const n = call(Call.PLAN_DUMP, plan, out, plan.byteLength, out.byteLength);
  if (n < 0) throw new MycfsError("the plan is malformed");
  return new TextDecoder()
    .decode(out.subarray(0, n))
    .split("\n")
    .filter(Boolean)
    .map((line) => {
      const [nums, ...strs] = line.split("\t");
      const [code, flags, a, b, c] = nums!.split(" ").map(Number) as [number, number, number, number, number];
      return { code, flags, a, b, c, strs };
    });
}

/** "No such file or directory (ENOENT)": the C library's words plus the name to search for. */
export function errnoMessage(errno: number): string {
  const text = (fn: number) => new CString(call(fn, null, null, errno) as Pointer).toString();
  return `${text(Call.STRERROR)} (${text(Call.ERRNAME) || `errno ${errno}`})`;
}

/** How libmycfs was built: its compiler, the C library it was compiled for, its architecture. */
export const libraryBuild = (): string => new CString(call(Call.BUILD_INFO) as Pointer).toString();

/** Where libmycfs is loaded from (inside the executable, for `mycfs version`). */
export const libraryPath = libPath;

// Thin file system calls for the start path: node:fs costs milliseconds to load, more
// than a container takes to start, so the common path does without it.
const utf8 = new TextEncoder();
const utf8Decoder = new TextDecoder();
const cstr = (s: string) => utf8.encode(`${s}\0`);

export function close(fd: number) {
  call(Call.CLOSE, null, null, fd);
}

export function write(fd: number, text: string) {
  check(writeBytes(fd, utf8.encode(text)), `write to fd ${fd}`);
}

/** Writes all of data; -errno on failure. */
export function writeBytes(fd: number, data: Uint8Array): number {
  return call(Call.WRITE, data, null, fd, data.byteLength);
}

export const S_IFMT = { DIR: 0o040000, REG: 0o100000 } as const;

/** path's mode, type and permission bits (following symlinks), or null if it does not exist. */
export function fileMode(path: string): number | null {
  return lookup(call(Call.FILE_MODE, cstr(path)), `stat ${path}`);
}

/** The file type bits of path's mode (S_IFMT.DIR, ...), or null if it does not exist. */
export function fileType(path: string): number | null {
  const mode = fileMode(path);
  return mode === null ? null : mode & 0o170000;
}

/** A device node's mode (type and permission bits) and numbers, following symlinks; null
 * if path does not exist. major and minor are 0 for other files. */
export function deviceNumber(path: string): { mode: number; major: number; minor: number } | null {
  const out = new Uint32Array(3);
  if (lookup(call(Call.DEVICE_NUMBER, cstr(path), out), `stat ${path}`) === null) return null;
  return { mode: out[0]!, major: out[1]!, minor: out[2]! };
}

/** Loads a cgroup v2 device filter (eBPF instructions) and attaches it to the cgroup
 * directory `dir` (csrc/devices.c). */
export function attachDeviceFilter(dir: string, insns: Uint8Array) {
  check(call(Call.ATTACH_DEVICE_FILTER, cstr(dir), insns, insns.byteLength), `attach the device filter to ${dir}`);
}

/** mkdir(2); `existing` accepts a path that is already there (another process's, perhaps). */
export function mkdir(path: string, mode: number, existing = false) {
  const rc = call(Call.MKDIR, cstr(path), null, mode);
  if (!(existing && rc === -E.EEXIST)) check(rc, `create ${path}`);
}

/** mkdir(2) with mode 0700; returns the errno instead of throwing. */
export function tryMkdir(path: string): number {
  return -call(Call.MKDIR, cstr(path), null, 0o700);
}

/** A new private directory below parent, named prefix and random letters: mkdtemp(3). */
export function mkdtemp(parent: string, prefix: string): string {
  for (;;) {
    const path = `${parent}/${prefix}${randomHex(4)}`;
    const err = tryMkdir(path);
    if (err === 0) return path;
    if (err !== E.EEXIST) throw new MycfsError(`create a directory in ${parent}: ${errnoMessage(err)}`);
  }
}

/** mycfs's own [soft, hard] limit for a resource; -1 is unlimited. */
export function getrlimit(resource: number): [number, number] {
  const out = new BigInt64Array(2);
  check(call(Call.GETRLIMIT, out, null, resource), "getrlimit");
  return [Number(out[0]), Number(out[1])];
}

/** Whether path may be written (access(2) W_OK): 0, or the errno (EROFS, EACCES). */
export const tryWritable = (path: string): number => -call(Call.ACCESS, cstr(path), null, 2 /* W_OK */);

/** rmdir(2): 0, or the errno (a busy cgroup is retried). */
export function tryRmdir(path: string): number {
  return -call(Call.RMDIR, cstr(path));
}

/** Writes a whole value in one write(2), as cgroup files expect. */
export function writeFile(path: string, value: string) {
  const b = utf8.encode(value);
  check(call(Call.WRITE_FILE, cstr(path), b, b.byteLength), `write ${JSON.stringify(value)} to ${path}`);
}

/** Calls fill with ever larger buffers (up to max bytes) until what it writes fits
 * (-ERANGE: it did not): the bytes used, or null if the thing is not there (lookup). Most
 * of what is read this way (/proc, cgroup files, links, directories) is small: start small. */
function grow(fill: (buf: Uint8Array) => number, what: string, max = Infinity): Uint8Array | null {
  for (let size = 4096; ; size *= 4) {
    const buf = new Uint8Array(Math.min(size, max));
    const n = fill(buf);
    if (n >= 0) return buf.subarray(0, n);
    if (n !== -E.ERANGE) return lookup(n, what) === null ? null : buf;
    if (buf.byteLength === max) return buf;
  }
}

/** A file's first bytes (fewer if it is shorter; none if it cannot be read). */
export function fileHead(path: string, n: number): Uint8Array {
  const buf = new Uint8Array(n);
  return buf.subarray(0, Math.max(0, call(Call.READ_FILE, cstr(path), buf, n)));
}

/** A small (virtual) file's text, up to max bytes, or null if it is not there. */
export function readFile(path: string, max = 1 << 20): string | null {
  const b = grow(
    (buf) => {
      const n = call(Call.READ_FILE, cstr(path), buf, buf.byteLength);
      return n === buf.byteLength ? -E.ERANGE : n; // full: there may be more
    },
    `read ${path}`,
    max,
  );
  return b && utf8Decoder.decode(b);
}

/** readlink(2), or null if there is no link there (nothing, or not a symlink: EINVAL);
 * node:fs costs milliseconds to load on a container's start path. */
export function readLink(path: string): string | null {
  const b = grow((buf) => {
    const n = call(Call.READLINK, cstr(path), buf, buf.byteLength);
    return n === -E.EINVAL ? -E.ENOENT : n;
  }, `readlink ${path}`);
  return b && utf8Decoder.decode(b);
}

export interface LayerEntry {
  /** Type and permission bits. */
  mode: number;
  major: number;
  minor: number;
  /** A directory overlayfs marks opaque: the layers below it do not show through. */
  opaque: boolean;
  /** Its size (at most 2^32-1). */
  size: number;
  /** A symlink's target; a regular file's first bytes, when asked for. */
  data: Uint8Array;
}

/** What is at `path` below the directory fd `dir`, resolved inside it (openat2
 * RESOLVE_IN_ROOT) following no symlink, the last one included (csrc/layer_entry.c); with
 * `contents`, a regular file's first bytes, up to that many. null if nothing is there. */
export function layerEntry(dir: number, path: string, contents = 0): LayerEntry | null {
  const buf = new Uint8Array(24 + Math.max(contents, 4096)); // 4096: PATH_MAX, the longest symlink target
  const n = lookup(call(Call.LAYER_ENTRY, cstr(path), buf, dir, buf.byteLength - 24, contents > 0 ? 1 : 0), `look up ${path}`);
  if (n === null) return null;
  const h = new Uint32Array(buf.buffer, 0, 5);
  return { mode: h[0]!, major: h[1]!, minor: h[2]!, opaque: h[3] === 1, size: h[4]!, data: buf.subarray(24, 24 + n) };
}

/** A directory's names (no . or ..), or null if it is not there. */
export function listDir(path: string): string[] | null {
  const b = grow((buf) => call(Call.LIST_DIR, cstr(path), buf, buf.byteLength), `list ${path}`);
  return b && (b.byteLength ? utf8Decoder.decode(b.subarray(0, -1)).split("\0") : []);
}

export interface GunzipThread {
  /** Where the compressed bytes go; closing it ends them. -1 when it reads a file itself. */
  input: number;
  /** Where the tar bytes come from. */
  output: number;
  /** 0, or -errno (EINVAL: not gzip or damaged, EPIPE: cut short): final at the output's end. Call once. */
  status(): number;
  /** The file's sha256, hex, once status() said 0 (a thread that reads a file itself). */
  sha256(): string;
}

/** A gunzip thread (csrc/gunzip.c), reading `file` itself if given; null where the host
 * has no zlib. */
export function gunzipThread(file = ""): GunzipThread | null {
  const fds = new Int32Array(2),
    err = new Int32Array(1);
  const job = images().mycfs_gunzip_start(cstr(file), fds, err);
  if (job === null) {
    if (err[0] === -E.ENOSYS) return null;
    throw new MycfsError(`start a gunzip thread${file && ` on ${file}`}: ${errnoMessage(-err[0]!)}`);
  }
  const digest = new Uint8Array(32);
  return {
    input: fds[0]!,
    output: fds[1]!,
    status: () => images().mycfs_gunzip_status(job, digest),
    sha256: () => digest.toHex(),
  };
}

/** rm -rf, never following a symlink nor crossing into another mount. */
export function removeTree(path: string) {
  check(call(Call.REMOVE_TREE, cstr(path)), `remove ${path}`);
}

// Entering a running container, and acting on processes through pidfds (csrc/join.c).

/** Clones a child into the PID namespace of the process behind pidfd (and the cgroup v2
 * directory behind cgroupFd, unless -1); it walks `plan`. `viaUserns`: a rootless
 * container's, entered through its user namespace first (csrc/join.c). */
/** Starts the enter program (csrc/enter/main.c) on `plan`, whose OP_ENTER clones it into a
 * container as our child; `keep`: our fds the plan uses (stdio, pidfd, cgroup; at most 6),
 * the only ones it gets. */
export function spawnJoined(plan: Uint8Array, keep: number[]): { pid: number; sock: number } {
  const io = new Int32Array([0, 0, -1, -1, -1, -1, -1, -1]);
  io.set(keep.slice(0, 6), 2);
  check(call(Call.SPAWN_JOINED, plan, io, plan.byteLength), "start the enter program");
  return { pid: io[0]!, sock: io[1]! };
}

/** Clones a child that walks `plan` straight into the PID namespace of the process behind
 * pidfd (and into the cgroup v2 directory open as `cgroupFd`, if not -1). */
export function spawnInto(plan: Uint8Array, pidfd: number, cgroupFd: number): { pid: number; sock: number } {
  const out = new Int32Array(2);
  check(call(Call.SPAWN_INTO, plan, out, plan.byteLength, pidfd, cgroupFd), "clone into the container's PID namespace");
  return { pid: out[0]!, sock: out[1]! };
}

/** A pidfd for pid, or null if there is no such process. */
export function pidfdOpen(pid: number): number | null {
  return lookup(call(Call.PIDFD_OPEN, null, null, pid), `pidfd_open ${pid}`);
}

/** Sends sig; false if the process is gone. */
export function pidfdSignal(pidfd: number, sig: number): boolean {
  return call(Call.PIDFD_SIGNAL, null, null, pidfd, sig) === 0;
}

/** Whether the process has exited within timeoutMs (-1: wait for ever). Blocks. */
export function pidfdWait(pidfd: number, timeoutMs: number): boolean {
  return check(call(Call.PIDFD_WAIT, null, null, pidfd, timeoutMs), "wait for a process") === 1;
}

export function setDumpable(on: boolean) {
  check(call(Call.SET_DUMPABLE, null, null, on ? 1 : 0), "prctl(PR_SET_DUMPABLE)");
}

// The host terminal (csrc/terminal.c).

/** Puts terminal fd in raw mode; returns its previous settings for restoreTerminal. */
export function rawTerminal(fd: number): Uint8Array | null {
  const saved = new Uint8Array(128);
  return call(Call.TTY_RAW, saved, null, fd, saved.byteLength) === 0 ? saved : null;
}

export function restoreTerminal(fd: number, saved: Uint8Array) {
  call(Call.TTY_RESTORE, saved, null, fd, saved.byteLength);
}

// The container state directory (csrc/state.c).

/** Writes a temporary file and renames it over path: readers never see half of it. */
export function replaceFile(path: string, text: string, mode = 0o600) {
  const b = utf8.encode(text);
  check(call(Call.REPLACE_FILE, cstr(path), b, b.byteLength, mode), `write ${path}`);
}

/** symlink(2): 0, or the errno (EEXIST: the name is taken). */
export function trySymlink(target: string, path: string): number {
  return -call(Call.SYMLINK, cstr(target), cstr(path));
}

/** rename(2). */
export function rename(from: string, to: string) {
  check(call(Call.RENAME, cstr(from), cstr(to)), `rename ${from} to ${to}`);
}

/** unlink(2): 0, or the errno. */
export function tryUnlink(path: string): number {
  return -call(Call.UNLINK, cstr(path));
}

export function dup2(from: number, to: number) {
  check(call(Call.DUP2, null, null, from, to), `dup2 ${from} onto ${to}`);
}

/** Opens and flock()s a lock file: an fd to close() to unlock, or null when `wait` is
 * false and another process holds it. */
export function lock(path: string, exclusive: boolean, wait: boolean): number | null {
  const fd = call(Call.LOCK, cstr(path), null, exclusive ? 1 : 0, wait ? 1 : 0);
  return fd === -E.EAGAIN && !wait ? null : check(fd, `lock ${path}`);
}

/** Copies an image's tree into an empty directory (reflinked where possible). */
export function copyTree(src: string, dst: string) {
  check(images().mycfs_copy_tree(cstr(src), cstr(dst)), `copy ${src} to ${dst}`);
}

/** The extended attributes of the entry at path (bytes: a layer's names need not be
 * UTF-8), never following a symlink there; none where the file system has none. */
export function readXattrs(path: Uint8Array): [name: string, value: Uint8Array][] {
  const p = new Uint8Array(path.byteLength + 1);
  p.set(path);
  const b = grow((buf) => images().mycfs_read_xattrs(p, buf, buf.byteLength), `read the extended attributes of ${utf8Decoder.decode(path)}`);
  const out: [string, Uint8Array][] = [];
  if (!b) return out;
  const view = new DataView(b.buffer, b.byteOffset, b.byteLength);
  for (let off = 0; off < b.byteLength; ) {
    const nul = b.indexOf(0, off);
    const len = view.getUint32(nul + 1, true);
    out.push([utf8Decoder.decode(b.subarray(off, nul)), b.slice(nul + 5, nul + 5 + len)]);
    off = nul + 5 + len;
  }
  return out;
}

// Archive entries created below an image's root by csrc/unpack.c: paths are relative to
// the root's fd and never follow a symlink. Each returns -errno on failure, for the
// unpacker to explain in the archive's terms.
export const EntryKind = { DIR: 1, SYMLINK: 2, HARDLINK: 3, NODE: 4 } as const;

export const entry = {
  openRoot: (path: string): number => images().mycfs_open_root(cstr(path)),
  closeRoot: (root: number): number => images().mycfs_close_root(root),
  /** A new regular file open for writing, or -errno. */
  file: (root: number, path: string): number => images().mycfs_entry_file(root, cstr(path)),
  fileDone: (fd: number, uid: number, gid: number, mode: number, mtime: number): number => images().mycfs_entry_file_done(fd, uid, gid, mode, mtime),
  /** file, its data and fileDone in one call, for a file whose data is all at hand. */
  wholeFile: (root: number, path: string, data: Uint8Array, uid: number, gid: number, mode: number, mtime: number): number =>
    images().mycfs_entry_whole_file(root, cstr(path), data, data.byteLength, uid, gid, mode, mtime),
  make: (root: number, path: string, kind: number, mode: number, dev: [number, number], target: string, uid: number, gid: number, mtime: number): number =>
    images().mycfs_entry_make(root, cstr(path), kind, mode, dev[0], dev[1], cstr(target), uid, gid, mtime),
  dirDone: (root: number, path: string, uid: number, gid: number, mode: number, mtime: number): number =>
    images().mycfs_entry_dir_done(root, cstr(path), uid, gid, mode, mtime),
  xattr: (root: number, path: string, key: string, value: Uint8Array): number =>
    images().mycfs_entry_xattr(root, cstr(path), cstr(key), value, value.byteLength),
  /** Bytes free on the file system of fd. */
  freeBytes: (fd: number): number => images().mycfs_free_bytes(fd),
  /** An entry's header blocks (its meta headers with their bodies, then its own) have
   * good checksums and numbers, and lead one to the next (csrc/tar_headers.c). */
  headersOk: (blocks: Uint8Array): boolean => images().mycfs_tar_headers_ok(blocks, blocks.byteLength) === 1,
};

/** mount(2) on mycfs's own side (the host's file systems, when mycfs is a VM's init). */
export function mountFs(source: string, target: string, fstype: string, flags: number, data = "") {
  check(call(Call.MOUNT, cstr(`${source}\0${target}\0${fstype}\0${data}`), null, flags), `mount ${fstype} on ${target}`);
}

/** Runs argv (argv[0] a path) with env as a child, passes the user's signals on to it and
 * reaps every process that ends meanwhile, until it ends: its wait status. */
export function supervise(argv: string[], env: string[]): number {
  return check(call(Call.SUPERVISE, cstr(argv.join("\0")), cstr(env.join("\0")), argv.length, env.length), `start ${argv[0]}`);
}

/** Syncs and powers the machine off; returns (-errno) only if it could not. */
export const powerOff = (): number => call(Call.POWER_OFF);

/** Sends one rtnetlink request (src/network/netlink.ts builds it) from the network
 * namespace of process `pid` (0: mycfs's own); the answer to a GET, else an empty array
 * for the kernel's ack; a refusal returns as -errno. */
export function netlink(req: Uint8Array, pid: number): Uint8Array | number {
  const reply = new Uint8Array(8192);
  const rc = call(Call.NETLINK, req, reply, req.byteLength, pid, reply.byteLength);
  return rc < 0 ? rc : reply.subarray(0, rc);
}

/** A fifo at path (the OCI front end's exec fifo). */
export const mkfifo = (path: string, mode: number) => void check(call(Call.MKFIFO, cstr(path), null, mode), `mkfifo ${path}`);

/** The exec fifo: the container's end (read and write), or `start`'s (write, non-blocking;
 * the errno when no container holds it: ENXIO, ENOENT). */
export function openFifo(path: string, start: boolean): number | { errno: number } {
  const rc = call(Call.OPEN_FIFO, cstr(path), null, start ? 1 : 0);
  if (rc >= 0) return rc;
  if (!start) check(rc, `open ${path}`);
  return { errno: -rc };
}

// runc's start and delete (csrc/oci_lifecycle.c, which the front shares).

/** Names as oci_lifecycle.c takes a list: each ended by NUL, the list by an empty name. */
const nameList = (names: readonly string[]) => `${names.map((n) => `${n}\0`).join("")}\0`;

/** A process's start time in clock ticks (/proc/PID/stat), or null if there is no such process (or it is a zombie). */
export function processStart(pid: number): number | null {
  const t = call(Call.OCI_PROCESS_START, null, null, pid);
  return t < 0 ? null : t;
}

/** The status of the container whose state is in `dir`: OciStatus. */
export const ociStatus = (dir: string, cgroupDirs: readonly string[], pid: number, startTime: number): number =>
  call(Call.OCI_STATUS, cstr(dir), utf8.encode(nameList(cgroupDirs)), pid, startTime);

/** Writes one byte to the exec fifo in `dir` and removes it: 0, or the errno (ENXIO: no container holds it). */
export const ociStart = (dir: string): number => -call(Call.OCI_START, cstr(dir));

/** Reaps pid if it is ours; else waits (a second at most) until /proc has it no more. */
export function waitGone(pid: number) {
  call(Call.OCI_WAIT_GONE, null, null, pid);
}

/** delete's work: SIGKILL the process and its cgroup's (with `kill`), wait until it is
 * gone, remove the cgroup's directories (a warning for one that stays), the parents made
 * for them that nothing else uses, and the state directory. */
export function ociRemove(dir: string, cgroupDirs: readonly string[], parents: readonly string[], pid: number, kill: boolean) {
  check(call(Call.OCI_REMOVE, cstr(dir), utf8.encode(nameList(cgroupDirs) + nameList(parents)), pid, kill ? 1 : 0), `remove ${dir}`);
}

/** 0 if seccomp(2) takes these SECCOMP_FILTER_FLAG_*s, else the errno it refuses them with. */
export const seccompFlagsRefused = (flags: number): number => -call(Call.SECCOMP_FLAGS, null, null, flags);

/** Connects to the unix socket at path and sends fd with SCM_RIGHTS, `message` beside it:
 * runc's --console-socket, and config.json's seccomp listener. */
export const sendFd = (path: string, fd: number, message: string, what: string) => void check(call(Call.SEND_CONSOLE, cstr(path), cstr(message), fd), what);
