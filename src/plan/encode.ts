// The plan's wire format (csrc/protocol.h): a header, then one 8-byte aligned record per
// op with three numbers and its NUL-terminated strings. The child reads it in place.
// Written in one pass into one buffer sized for the worst case: this runs once per start,
// in a cold interpreter, where every allocation and callback shows.
import { OP_HEADER_SIZE, PLAN_HEADER_SIZE, PLAN_MAGIC, PLAN_VERSION } from "../native/protocol";
import { MycfsError } from "../errors";
import type { Op } from "./ops";

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
function bound(o: Op): number {
  let n = OP_HEADER_SIZE + (o.blob?.byteLength ?? 0);
  for (const s of o.strs) n += s.length * 3 + 1;
  return align8(n);
}

export function encodePlan(ops: Op[], flags = 0): Uint8Array {
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
      if (s.includes("\0")) throw new MycfsError(`a NUL byte cannot be passed to the kernel: ${o.what}`);
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
