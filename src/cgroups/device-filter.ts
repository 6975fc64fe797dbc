// Device rules compiled into the eBPF program cgroup v2 takes instead of v1's devices
// files (BPF_PROG_TYPE_CGROUP_DEVICE), as runc (libcontainer/cgroups/devices) and crun
// (src/libcrun/ebpf.c) build theirs. The kernel runs it whenever a process of the cgroup
// opens or makes a device node, with
//   struct bpf_cgroup_dev_ctx { u32 access_type; u32 major; u32 minor; }
// where access_type = access << 16 | type; it returns 1 to allow, 0 to refuse (EPERM).
// The program, in order: the context into r2 (type), r3 (access), r4, r5 (major, minor);
// then one block per rule, the last rule first, as runc's: the last rule that matches
// decides. Each test jumps to the next block when it fails, and the block ends in
// "return 1" (allow) or "return 0" (deny); a type a rule matches everything, so the
// blocks stop there; without one, "return 0" at the end. An allow rule matches a request
// whose every access it names, a deny rule one that asks for any access it names (as
// v1's devices controller matches its exceptions).
import type { DeviceRule } from "./devices";

/** The opcodes used (linux/bpf.h, linux/bpf_common.h). */
export const EBPF = {
  LDX_W: 0x61, // BPF_LDX | BPF_MEM | BPF_W: dst = *(u32 *)(src + off)
  AND32: 0x54, // BPF_ALU | BPF_AND | BPF_K: dst = (u32)dst & imm
  RSH32: 0x74, // BPF_ALU | BPF_RSH | BPF_K
  MOV32_REG: 0xbc, // BPF_ALU | BPF_MOV | BPF_X: dst = (u32)src
  MOV64: 0xb7, // BPF_ALU64 | BPF_MOV | BPF_K: dst = imm
  JNE: 0x55, // BPF_JMP | BPF_JNE | BPF_K: if dst != imm, skip off instructions
  JNE_REG: 0x5d, // BPF_JMP | BPF_JNE | BPF_X: if dst != src, ...
  JEQ: 0x15, // BPF_JMP | BPF_JEQ | BPF_K: if dst == imm, ...
  EXIT: 0x95, // return r0
} as const;

/** linux/bpf.h: BPF_DEVCG_DEV_* and BPF_DEVCG_ACC_*. */
const TYPE = { b: 1, c: 2 } as const;
const ACCESS = { m: 1, r: 2, w: 4 } as const;
const RWM = ACCESS.m | ACCESS.r | ACCESS.w;

/** Instructions a rule takes at most: its tests of type (1), access (3), major and
 * minor (1 each), then "return 1" (2). The prologue and "return 0" take 8. */
const MAX_PER_RULE = 8;

/** The program for the rules: struct bpf_insn[], little endian. Written straight into
 * its buffer, without an object per instruction: this runs on a container's start path,
 * in a cold interpreter. */
export function compileDeviceFilter(rules: readonly DeviceRule[]): Uint8Array {
  const buf = new Uint8Array((rules.length * MAX_PER_RULE + 8) * 8);
  const view = new DataView(buf.buffer);
  let n = 0;
  const put = (code: number, dst: number, src: number, off: number, imm: number) => {
    view.setUint8(n * 8, code);
    view.setUint8(n * 8 + 1, (src << 4) | dst);
    view.setInt16(n * 8 + 2, off, true);
    view.setInt32(n * 8 + 4, imm, true);
    n++;
  };
  put(EBPF.LDX_W, 2, 1, 0, 0); // r2 = type
  put(EBPF.AND32, 2, 0, 0, 0xffff);
  put(EBPF.LDX_W, 3, 1, 0, 0); // r3 = access
  put(EBPF.RSH32, 3, 0, 0, 16);
  put(EBPF.LDX_W, 4, 1, 4, 0); // r4 = major
  put(EBPF.LDX_W, 5, 1, 8, 0); // r5 = minor
  let last = rules.length - 1;
  for (; last >= 0; last--) {
    const r = rules[last]!;
    if (r.type === "a") break;
    let access = 0;
    for (const c of r.access) access |= ACCESS[c as keyof typeof ACCESS];
    const checkAccess = access !== RWM,
      checkMajor = r.major >= 0,
      checkMinor = r.minor >= 0;
    // a failed test skips the rest of the block: the tests after it, and its return
    let left = 1 + (checkAccess ? 3 : 0) + (checkMajor ? 1 : 0) + (checkMinor ? 1 : 0) + 2;
    put(EBPF.JNE, 2, 0, (left -= 1), TYPE[r.type]);
    if (checkAccess) {
      put(EBPF.MOV32_REG, 1, 3, 0, 0);
      put(EBPF.AND32, 1, 0, 0, access);
      // allow: every access asked for is one the rule names, (asked & named) == asked;
      // deny: some is, (asked & named) != 0
      if (r.deny) put(EBPF.JEQ, 1, 0, (left -= 3), 0);
      else put(EBPF.JNE_REG, 1, 3, (left -= 3), 0);
    }
    if (checkMajor) put(EBPF.JNE, 4, 0, (left -= 1), r.major);
    if (checkMinor) put(EBPF.JNE, 5, 0, (left -= 1), r.minor);
    put(EBPF.MOV64, 0, 0, 0, r.deny ? 0 : 1);
    put(EBPF.EXIT, 0, 0, 0, 0);
  }
  put(EBPF.MOV64, 0, 0, 0, last >= 0 && !rules[last]!.deny ? 1 : 0);
  put(EBPF.EXIT, 0, 0, 0, 0);
  return buf.subarray(0, n * 8);
}
