// The plan's wire format (csrc/protocol.h): a header, then one 8-byte aligned record per
// step with its op code, flags, three numbers and its NUL-terminated strings. The child
// reads it in place. The only place that knows which slot holds which field of a step.
// Written in one pass into one buffer sized for the worst case: this runs once per start,
// in a cold interpreter, where every allocation and callback shows.
import { OP_HEADER_SIZE, OpCode, OpFlag, PLAN_HEADER_SIZE, PLAN_MAGIC, PLAN_VERSION } from "../native/protocol";
import { MycfsError } from "../errors";
import type { Step } from "./ops";

/** A step as the C child reads it (csrc/protocol.h: struct mycfs_op_hdr and its strings). */
export interface RawOp {
  code: number;
  flags: number;
  a: number;
  b: number;
  c: number;
  strs: string[];
  /** Raw bytes carried instead of strings (OP_SECCOMP's BPF program, OP_SETID's gids). */
  blob?: Uint8Array;
}

/** dev_t as glibc's makedev encodes it, for the kernel's numbers (12-bit major, 20-bit
 * minor): minor bits 0-7, major bits 8-19, minor bits 8-19 at 20-31. */
export const makedev = (major: number, minor: number) => (minor & 0xff) + (major & 0xfff) * 0x100 + (minor & 0xfff00) * 0x1000;

const raw = (code: number, more: Partial<RawOp> = {}): RawOp => ({ code, flags: 0, a: 0, b: 0, c: 0, strs: [], ...more });

/** The wire slots of a step (csrc/protocol.h says what each op reads from them). */
export function wire(s: Step): RawOp {
  switch (s.kind) {
    case "sync":
      return raw(OpCode.SYNC, { a: s.point });
    case "mount": {
      const flags =
        (s.inRoot === undefined ? 0 : OpFlag.IN_ROOT | (s.inRoot === "dir" ? OpFlag.MKDIR : s.inRoot === "file" ? OpFlag.MKFILE : 0)) |
        (s.optional ? OpFlag.OPTIONAL : 0) |
        (s.bindSelf ? OpFlag.BIND_SELF : 0) |
        (s.sourceInRoot ? OpFlag.SOURCE_IN_ROOT : 0) |
        (s.mask ? OpFlag.MASK : 0);
      const device = s.sourceInRoot?.device;
      return raw(OpCode.MOUNT, { flags, a: s.flags ?? 0, b: device ? makedev(...device) : 0, strs: [s.source ?? "", s.target, s.fstype ?? "", s.data ?? ""] });
    }
    case "root":
      return s.tree === undefined
        ? raw(OpCode.ROOT, { strs: [s.path] })
        : raw(OpCode.ROOT, { flags: OpFlag.TREE, a: s.tree === "passed" ? -1 : s.tree, strs: [s.path] });
    case "mkdir":
      return raw(OpCode.MKDIR, { strs: [s.path] });
    case "mknod":
      return raw(OpCode.MKNOD, { a: s.mode, b: makedev(s.major, s.minor), strs: [s.path] });
    case "symlink":
      return raw(OpCode.SYMLINK, { strs: [s.target, s.path] });
    case "pivotRoot":
      return raw(OpCode.PIVOT_ROOT);
    case "liftRoot":
      return raw(OpCode.LIFT_ROOT);
    case "chroot":
      return raw(OpCode.CHROOT);
    case "hostname":
      return raw(OpCode.HOSTNAME, { strs: [s.name] });
    case "loopback":
      return raw(OpCode.LOOPBACK);
    case "chdir":
      return raw(OpCode.CHDIR, { strs: [s.path] });
    case "stdio":
      return raw(OpCode.STDIO, { a: s.fds[0], b: s.fds[1], c: s.fds[2] });
    case "exec":
      return raw(OpCode.EXEC, {
        flags: OpFlag.SETSID | (s.init ? OpFlag.INIT : 0) | (s.ctty ? OpFlag.CTTY : 0),
        a: s.argv.length,
        b: s.env.length,
        strs: [s.path, ...s.argv, ...s.env],
      });
    case "unshare":
      return raw(OpCode.UNSHARE, { a: s.flags });
    case "prctl":
      return raw(OpCode.PRCTL, { a: s.option, b: s.arg });
    case "rlimit":
      return raw(OpCode.RLIMIT, { a: s.resource, b: s.soft, c: s.hard });
    case "bounding":
      return raw(OpCode.CAPBSET, { a: s.keep });
    case "caps":
      return raw(OpCode.CAPS, { a: s.permitted, b: s.inheritable, c: s.ambient });
    case "seccomp":
      return raw(OpCode.SECCOMP, { a: s.bpf.byteLength, b: s.flags, c: s.point ?? 0, blob: s.bpf });
    case "setid": {
      const groups = s.groups ?? [];
      return raw(OpCode.SETID, {
        a: s.gid,
        b: s.uid,
        c: groups.length,
        flags: s.groups ? OpFlag.SETGROUPS : 0,
        blob: new Uint8Array(new Uint32Array(groups).buffer), // not Uint32Array.from: its first call costs a millisecond
      });
    }
    case "attach":
      return raw(OpCode.ATTACH, { strs: [s.path] });
    case "write":
      return raw(OpCode.WRITE, { strs: [s.path, s.text] });
    case "setns":
      return raw(OpCode.SETNS, { a: s.fd, b: s.flags });
    case "pty":
      return raw(OpCode.PTY, { a: s.point, b: s.uid, c: s.gid });
    case "enter":
      return raw(OpCode.ENTER, { a: s.pidfd, b: s.cgroupFd, c: s.point ?? 0 });
    case "await":
      return raw(OpCode.AWAIT, { a: s.fd, b: s.keepFds });
    case "umask":
      return raw(OpCode.UMASK, { a: s.mask });
    case "personality":
      return raw(OpCode.PERSONALITY, { a: s.persona });
    case "ioprio":
      return raw(OpCode.IOPRIO, { a: s.value });
    case "sched":
      return raw(OpCode.SCHED, { a: s.attr.byteLength, blob: s.attr });
    case "setattr":
      return raw(OpCode.SETATTR, { flags: OpFlag.IN_ROOT, a: s.set, b: s.clear, strs: [s.target] });
    case "attachTree":
      return raw(OpCode.ATTACH_TREE, { flags: OpFlag.IN_ROOT | (s.file ? OpFlag.MKFILE : OpFlag.MKDIR), a: s.fd, strs: [s.target] });
  }
}

const utf8 = new TextEncoder();
const align8 = (n: number) => (n + 7) & ~7;

/** A signed 64-bit little-endian integer (-1, "keep the inherited fd", reads back as -1),
 * without BigInt, which is slow in code that runs once per start. */
function setInt64(view: DataView, off: number, n: number) {
  view.setUint32(off, n >>> 0, true);
  view.setInt32(off + 4, Math.floor(n / 0x100000000), true);
}

/** The most bytes an op can take (what the loop below writes: its blob, then its
 * strings): UTF-8 needs at most 3 bytes per UTF-16 unit. */
function bound(o: RawOp): number {
  let n = OP_HEADER_SIZE + (o.blob?.byteLength ?? 0);
  for (const s of o.strs) n += s.length * 3 + 1;
  return align8(n);
}

export function encodePlan(steps: Step[], flags = 0): Uint8Array {
  const ops = steps.map(wire);
  let max = PLAN_HEADER_SIZE;
  for (const o of ops) max += bound(o);
  const buf = new Uint8Array(max); // zeroed: every string's terminator is already there
  const view = new DataView(buf.buffer);
  view.setUint32(0, PLAN_MAGIC, true);
  view.setUint32(4, PLAN_VERSION, true);
  view.setUint32(8, ops.length, true);
  view.setUint32(12, flags, true);
  let off = PLAN_HEADER_SIZE;
  for (const o of ops) {
    let p = off + OP_HEADER_SIZE;
    if (o.blob) {
      buf.set(o.blob, p);
      p += o.blob.byteLength;
    }
    for (const s of o.strs) {
      if (s.includes("\0")) throw new MycfsError(`a NUL byte cannot be passed to the kernel: ${steps[ops.indexOf(o)]!.what}`);
      p += utf8.encodeInto(s, buf.subarray(p)).written + 1;
    }
    const size = align8(p - off);
    view.setUint32(off, size, true);
    view.setUint32(off + 4, o.code, true);
    view.setUint32(off + 8, o.strs.length, true);
    view.setUint32(off + 12, o.flags, true);
    setInt64(view, off + 16, o.a);
    setInt64(view, off + 24, o.b);
    setInt64(view, off + 32, o.c);
    off += size;
  }
  return buf.subarray(0, off);
}
