// A directory tree with every kind of entry an image holds, and a tree described entry
// by entry, to compare two: round trips through archives (unpack.test.ts, save.test.ts).
import { dlopen } from "bun:ffi";
import {
  chownSync,
  linkSync,
  lstatSync,
  lutimesSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  symlinkSync,
  utimesSync,
  writeFileSync,
} from "node:fs";
import { join } from "node:path";

const libc = dlopen("libc.so.6", {
  lsetxattr: { args: ["cstring", "cstring", "ptr", "usize", "i32"], returns: "i32" },
  lgetxattr: { args: ["cstring", "cstring", "ptr", "usize"], returns: "i64" },
  llistxattr: { args: ["cstring", "ptr", "usize"], returns: "i64" },
}).symbols;
const c = (s: string) => Buffer.from(`${s}\0`);

export function xattrs(path: string): Record<string, string> {
  const names = Buffer.alloc(4096);
  const n = Number(libc.llistxattr(c(path), names, names.length));
  const out: Record<string, string> = {};
  for (const name of n > 0 ? names.subarray(0, n).toString().split("\0").filter(Boolean) : []) {
    const value = Buffer.alloc(4096);
    const len = Number(libc.lgetxattr(c(path), c(name), value, value.length));
    out[name] = value.subarray(0, len).toString("hex");
  }
  return out;
}

export function setXattr(path: string, name: string, value: Uint8Array) {
  if (libc.lsetxattr(c(path), c(name), value, value.byteLength, 0) !== 0) throw new Error(`lsetxattr ${path} ${name} failed`);
}

/** Makes `src`: files with every kind of mode, owners, hardlinks, symlinks, empty and
 * deep directories, long names, a fifo, devices, extended attributes. */
export function makeEveryKindOfEntry(src: string) {
  const long = `${"d".repeat(90)}/${"e".repeat(60)}`; // 151 characters: ustar's prefix field
  const longer = `${"l".repeat(200)}/${"m".repeat(200)}`; // only PAX or GNU headers hold it
  mkdirSync(join(src, long), { recursive: true });
  mkdirSync(join(src, longer), { recursive: true });
  for (const [name, mode] of [
    ["plain", 0o644],
    ["exec", 0o755],
    ["setuid", 0o4755],
    ["setgid", 0o2711],
    ["private", 0o600],
  ] as const) {
    writeFileSync(join(src, name), `${name}\n`, { mode });
    Bun.spawnSync(["chmod", mode.toString(8), join(src, name)]);
  }
  writeFileSync(join(src, "empty"), "");
  writeFileSync(join(src, "random"), crypto.getRandomValues(new Uint8Array(65536 * 3 + 17)));
  writeFileSync(join(src, long, "file"), "long\n");
  writeFileSync(join(src, longer, "file"), "longer\n");
  chownSync(join(src, "private"), 1234, 5678);
  mkdirSync(join(src, "sticky"), { mode: 0o1777 });
  Bun.spawnSync(["chmod", "1777", join(src, "sticky")]);
  mkdirSync(join(src, "owned"));
  chownSync(join(src, "owned"), 4321, 8765);
  linkSync(join(src, "plain"), join(src, "hardlink"));
  symlinkSync("plain", join(src, "relative-link"));
  symlinkSync("/etc/passwd", join(src, "absolute-link"));
  symlinkSync("../nowhere", join(src, "dangling-link"));
  Bun.spawnSync(["mkfifo", join(src, "fifo")]);
  Bun.spawnSync(["mknod", join(src, "null"), "c", "1", "3"]);
  Bun.spawnSync(["mknod", join(src, "loop"), "b", "7", "200"]);
  setXattr(join(src, "exec"), "user.mycfs", Buffer.from([0, 0xff, 1, 0x80]));
  setXattr(join(src, "owned"), "user.dir", Buffer.from("on a directory"));
  for (const entry of readdirSync(src, { recursive: true }) as string[]) {
    const t = new Date(Date.UTC(2020, 1, 3, 4, 5, 6));
    if (lstatSync(join(src, entry)).isSymbolicLink()) lutimesSync(join(src, entry), t, t);
    else utimesSync(join(src, entry), t, t);
  }
  utimesSync(src, 1e9, 1e9);
}

/** Each entry of the tree under `root`: kind, mode, owner, mtime (not the root's: what
 * unpacks into it sets it), content, link target, device number, extended attributes. */
export function describeTree(root: string, withXattrs: boolean) {
  const inodes = new Map<number, string>();
  const paths = ["", ...(readdirSync(root, { recursive: true }) as string[]).sort()];
  return paths.map((p) => {
    const full = join(root, p);
    const s = lstatSync(full);
    const kind = s.isFile()
      ? "file"
      : s.isDirectory()
        ? "dir"
        : s.isSymbolicLink()
          ? "symlink"
          : s.isFIFO()
            ? "fifo"
            : s.isCharacterDevice()
              ? "char"
              : s.isBlockDevice()
                ? "block"
                : "?";
    const first = s.isFile() && s.nlink > 1 ? inodes.get(s.ino) : undefined;
    if (s.isFile() && s.nlink > 1 && !first) inodes.set(s.ino, p);
    return {
      path: p,
      kind,
      mode: (s.mode & 0o7777).toString(8),
      owner: `${s.uid}:${s.gid}`,
      mtime: kind === "dir" && p === "" ? 0 : Math.floor(s.mtimeMs / 1000),
      ...(kind === "file" ? { content: new Bun.CryptoHasher("sha256").update(readFileSync(full)).digest("hex"), hardlinkOf: first } : {}),
      ...(kind === "symlink" ? { target: readlinkSync(full) } : {}),
      ...(kind === "char" || kind === "block" ? { rdev: s.rdev } : {}),
      ...(withXattrs && kind !== "symlink" ? { xattrs: xattrs(full) } : {}),
    };
  });
}
