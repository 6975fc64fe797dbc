// Writing tar headers: the ustar block of an entry, preceded by a PAX extended header
// for what ustar's fields cannot hold (names and link targets over 100 bytes, numbers
// too large for their octal field, extended attributes as SCHILY.xattr.*). Names are
// bytes, as the file system gives them: they need not be UTF-8, and a xattr's value is
// binary (security.capability). Nothing depends on the time or the host, so the same
// entry always gives the same bytes.

export const BLOCK = 512;

/** ustar type flags. */
export const TarType = { FILE: "0", LINK: "1", SYMLINK: "2", CHAR: "3", BLOCK: "4", DIR: "5", FIFO: "6" } as const;
export type TarType = (typeof TarType)[keyof typeof TarType];

export interface TarEntry {
  /** The path in the archive; a directory's ends with "/". */
  name: Uint8Array;
  type: TarType;
  /** Permission bits with setuid, setgid and sticky. */
  mode: number;
  uid: number;
  gid: number;
  /** Seconds since the epoch. */
  mtime: number;
  /** Bytes of data that follow (a regular file's; 0 for the others). */
  size: number;
  /** A symlink's target, or the earlier entry a hardlink names. */
  linkname?: Uint8Array;
  /** A device node's major and minor numbers. */
  dev?: [number, number];
  /** Extended attributes, in the order given. */
  xattrs?: [string, Uint8Array][];
}

const utf8 = new TextEncoder();
const NAME = 100;
const MAGIC = utf8.encode("ustar\u000000");

/** width - 1 octal digits, then the NUL the zeroed block already holds. Digit by digit,
 * into the block: a string per field made headers cost several times more. */
function octal(block: Uint8Array, at: number, width: number, n: number) {
  for (let i = at + width - 2, v = n; i >= at; i--, v = Math.floor(v / 8)) block[i] = 0x30 + (v % 8);
}

/** Fits an octal field of `width` bytes (one of them its NUL). */
const fits = (n: number, width: number) => Number.isSafeInteger(n) && n >= 0 && n < 8 ** (width - 1);

/** One PAX record: "LENGTH KEY=VALUE\n", LENGTH counting itself. */
function record(key: string, value: Uint8Array): Uint8Array {
  const head = utf8.encode(` ${key}=`);
  const rest = head.byteLength + value.byteLength + 1;
  let length = rest + 1;
  while (String(length).length + rest !== length) length = String(length).length + rest;
  const out = new Uint8Array(length);
  const digits = utf8.encode(String(length));
  out.set(digits);
  out.set(head, digits.byteLength);
  out.set(value, digits.byteLength + head.byteLength);
  out[length - 1] = 0x0a;
  return out;
}

function ustar(e: Omit<TarEntry, "type"> & { type: string }): Uint8Array {
  const b = new Uint8Array(BLOCK);
  b.set(e.name.subarray(0, NAME), 0);
  octal(b, 100, 8, e.mode & 0o7777);
  octal(b, 108, 8, fits(e.uid, 8) ? e.uid : 0);
  octal(b, 116, 8, fits(e.gid, 8) ? e.gid : 0);
  octal(b, 124, 12, fits(e.size, 12) ? e.size : 0);
  octal(b, 136, 12, fits(e.mtime, 12) ? e.mtime : 0);
  b[156] = e.type.charCodeAt(0);
  if (e.linkname) b.set(e.linkname.subarray(0, NAME), 157);
  b.set(MAGIC, 257);
  octal(b, 329, 8, e.dev?.[0] ?? 0);
  octal(b, 337, 8, e.dev?.[1] ?? 0);
  // the checksum is summed with its own field as spaces: 6 digits, NUL, space
  b.fill(0x20, 148, 156);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += b[i]!;
  octal(b, 148, 7, sum);
  b[154] = 0;
  b[155] = 0x20;
  return b;
}

/** The entry's header blocks: its PAX header and records (when needed), then its ustar block. */
export function tarHeader(e: TarEntry): Uint8Array {
  const pax: Uint8Array[] = [];
  if (e.name.byteLength > NAME) pax.push(record("path", e.name));
  if (e.linkname && e.linkname.byteLength > NAME) pax.push(record("linkpath", e.linkname));
  const numbers: [string, number, number][] = [
    ["uid", e.uid, 8],
    ["gid", e.gid, 8],
    ["size", e.size, 12],
    ["mtime", e.mtime, 12],
  ];
  for (const [key, n, width] of numbers) if (!fits(n, width)) pax.push(record(key, utf8.encode(String(n))));
  for (const [key, value] of e.xattrs ?? []) pax.push(record(`SCHILY.xattr.${key}`, value));
  const block = ustar(e);
  if (!pax.length) return block;
  const size = pax.reduce((a, r) => a + r.byteLength, 0);
  const base = e.name.subarray(e.name.lastIndexOf(0x2f, e.name.byteLength - 2) + 1);
  const head = ustar({ name: Buffer.concat([utf8.encode("PaxHeaders/"), base]), type: "x", mode: 0o644, uid: 0, gid: 0, mtime: 0, size });
  return Buffer.concat([head, ...pax, new Uint8Array(-size & (BLOCK - 1)), block]);
}
