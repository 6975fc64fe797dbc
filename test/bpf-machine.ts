// A classic-BPF machine for seccomp's subset: runs a compiled filter on seccomp_data the
// way the kernel would (seccomp.unit.test.ts, oci-seccomp.unit.test.ts). No root needed.
import { expect } from "bun:test";

const OPCODES = new Set([0x20, 0x54, 0x05, 0x15, 0x25, 0x35, 0x45, 0x06]);

/** What the kernel checks before it takes a filter (bpf_check_classic, seccomp_check_filter). */
export function verify(prog: Uint8Array) {
  const n = prog.length / 8;
  expect(n).toBeGreaterThan(0);
  expect(n).toBeLessThanOrEqual(4096);
  const v = new DataView(prog.buffer, prog.byteOffset, prog.byteLength);
  for (let pc = 0; pc < n; pc++) {
    const [code, jt, jf, k] = [v.getUint16(pc * 8, true), v.getUint8(pc * 8 + 2), v.getUint8(pc * 8 + 3), v.getUint32(pc * 8 + 4, true)];
    if (!OPCODES.has(code)) throw new Error(`insn ${pc}: opcode ${code.toString(16)}`);
    if (code === 0x20 && (k % 4 || k >= 64)) throw new Error(`insn ${pc}: load at ${k}`);
    if (code === 0x05 && pc + 1 + k >= n) throw new Error(`insn ${pc}: JA past the end`);
    if ((code & 0x07) === 0x05 && code !== 0x05 && pc + 1 + Math.max(jt, jf) >= n) throw new Error(`insn ${pc}: jump past the end`);
  }
  expect(v.getUint16((n - 1) * 8, true)).toBe(0x06);
}

/** seccomp_data: nr, arch, instruction_pointer, args[6], little endian. */
export function seccompData(nr: number, arch: number, args: readonly bigint[] = []): DataView {
  const d = new DataView(new ArrayBuffer(64));
  d.setUint32(0, nr >>> 0, true);
  d.setUint32(4, arch, true);
  for (const [i, a] of args.entries()) d.setBigUint64(16 + 8 * i, BigInt.asUintN(64, a), true);
  return d;
}

/** The filter's answer, and how many instructions it took. */
export function run(prog: Uint8Array, data: DataView): { ret: number; steps: number } {
  const v = new DataView(prog.buffer, prog.byteOffset, prog.byteLength);
  let a = 0;
  for (let pc = 0, steps = 1; ; pc++, steps++) {
    const [code, jt, jf, k] = [v.getUint16(pc * 8, true), v.getUint8(pc * 8 + 2), v.getUint8(pc * 8 + 3), v.getUint32(pc * 8 + 4, true)];
    const branch = (cond: boolean) => (pc += cond ? jt : jf);
    switch (code) {
      case 0x20:
        a = data.getUint32(k, true);
        break;
      case 0x54:
        a = (a & k) >>> 0;
        break;
      case 0x05:
        pc += k;
        break;
      case 0x15:
        branch(a === k);
        break;
      case 0x25:
        branch(a > k);
        break;
      case 0x35:
        branch(a >= k);
        break;
      case 0x45:
        branch((a & k) !== 0);
        break;
      case 0x06:
        return { ret: k, steps };
      default:
        throw new Error(`opcode ${code}`);
    }
  }
}
