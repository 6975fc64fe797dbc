// Where each member of an uncompressed tar file lies, read from its headers alone: image
// archives (`docker save`, an OCI layout in a tar) are read member by member in any order
// straight from the file, never unpacked first. Names follow ustar's prefix, PAX `path`
// and GNU long names; symlinks (docker save links a repeated layer to its first copy)
// are followed inside the archive only.
import { MycfsError } from "../errors";
import { normalize } from "../paths";

export interface Member {
  offset: number;
  size: number;
}

const text = new TextDecoder();
const field = (b: Uint8Array, from: number, len: number) => {
  const s = b.subarray(from, from + len);
  const nul = s.indexOf(0);
  return text.decode(nul < 0 ? s : s.subarray(0, nul));
};
const octal = (b: Uint8Array, from: number, len: number) => {
  if (b[from]! & 0x80) {
    // base-256 (GNU), for sizes of 8 GiB and more
    let v = 0;
    for (let i = from + 1; i < from + len; i++) v = v * 256 + b[i]!;
    return v;
  }
  return Number.parseInt(field(b, from, len).trim() || "0", 8);
};

function paxPath(body: Uint8Array): string | undefined {
  for (let r = 0; r < body.byteLength; ) {
    const space = body.indexOf(0x20, r);
    const len = Number(text.decode(body.subarray(r, space)));
    if (space < 0 || !(len > 0)) break;
    const record = text.decode(body.subarray(space + 1, r + len - 1));
    if (record.startsWith("path=")) return record.slice(5);
    r += len;
  }
  return undefined;
}

/** Members by normalized name ("blobs/sha256/…", "manifest.json"). */
export async function tarIndex(file: string): Promise<Map<string, Member>> {
  const tar = Bun.file(file);
  const end = tar.size;
  const members = new Map<string, Member>();
  const links = new Map<string, string>();
  let longName: string | undefined;
  for (let off = 0; off + 512 <= end; ) {
    const h = await tar.slice(off, off + 512).bytes();
    if (h.every((b) => b === 0)) break;
    const size = octal(h, 124, 12);
    const type = String.fromCharCode(h[156]! || 0x30);
    const body = off + 512;
    const next = body + size + (-size & 511);
    if (next > end || !Number.isSafeInteger(size)) throw new MycfsError(`${file}: a tar member runs past the end of the file (truncated?)`);
    if (type === "x" || type === "L") {
      const meta = await tar.slice(body, body + size).bytes();
      longName = type === "x" ? paxPath(meta) : field(meta, 0, size);
    } else {
      const prefix = field(h, 345, 155);
      const name = normalize(longName ?? (prefix ? `${prefix}/${field(h, 0, 100)}` : field(h, 0, 100))).replace(/^\.\//, "");
      longName = undefined;
      if (type === "0" || type === "7") members.set(name, { offset: body, size });
      else if (type === "2") links.set(name, field(h, 157, 100));
      else if (type === "1") links.set(name, `/${field(h, 157, 100)}`); // a hardlink names a member from the top
    }
    off = next;
  }
  for (const [name, target] of links) {
    const path = normalize(target.startsWith("/") ? target.slice(1) : `${name}/../${target}`);
    const member = members.get(path);
    if (member && !path.startsWith("../")) members.set(name, member);
  }
  return members;
}
