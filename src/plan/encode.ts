// The plan's wire format (csrc/protocol.h): a header, then one 8-byte aligned record per
// op with three numbers and its NUL-terminated strings. The child reads it in place.
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

export function encodePlan(ops: Op[], flags = 0): Uint8Array {
  const encoded = ops.map((o) => o.strs.map((s) => utf8.encode(s)));
  const sizes = encoded.map((strs, i) =>
    align8(OP_HEADER_SIZE + (ops[i]!.blob?.byteLength ?? strs.reduce((n, s) => n + s.byteLength + 1, 0))),
  );
  const buf = new Uint8Array(PLAN_HEADER_SIZE + sizes.reduce((a, b) => a + b, 0));
  const view = new DataView(buf.buffer);
  view.setUint32(0, PLAN_MAGIC, true);
  view.setUint32(4, PLAN_VERSION, true);
  view.setUint32(8, ops.length, true);
  view.setUint32(12, flags, true);
  let off = PLAN_HEADER_SIZE;
  ops.forEach((o, i) => {
    view.setUint32(off, sizes[i]!, true);
    view.setUint32(off + 4, o.code, true);
    view.setUint32(off + 8, o.strs.length, true);
    view.setUint32(off + 12, o.flags, true);
    setInt64(view, off + 16, o.a);
    setInt64(view, off + 24, o.b);
    setInt64(view, off + 32, o.c);
    let p = off + OP_HEADER_SIZE;
    if (o.blob) buf.set(o.blob, p);
    for (const s of encoded[i]!) {
      if (s.includes(0)) throw new MycfsError(`a NUL byte cannot be passed to the kernel: ${o.what}`);
      buf.set(s, p);
      p += s.byteLength + 1; // the buffer is zeroed, so the terminator is already there
    }
    off += sizes[i]!;
  });
  return buf;
}
