// Unpacking archives: damaged ones are refused and store nothing, device nodes and
// attributes that cannot or must not be set are left out with a warning, and honest
// archives come out exactly as GNU tar packed them. (Archives that reach out of the image:
// test/security/cve-2014-6407.test.ts.)
import { afterAll, describe, expect, test } from "bun:test";
import { dlopen } from "bun:ffi";
import {
  existsSync,
  lstatSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  symlinkSync,
  writeFileSync,
  linkSync,
  chownSync,
  lutimesSync,
  utimesSync,
} from "node:fs";
import { join } from "node:path";
import { packTar } from "modern-tar";
import { file, importRefused } from "./archives";
import { imageDir, mycfs, testStore } from "./helpers";

const store = testStore("unpack");
afterAll(store.cleanup);

const libc = dlopen("libc.so.6", {
  lsetxattr: { args: ["cstring", "cstring", "ptr", "usize", "i32"], returns: "i32" },
  lgetxattr: { args: ["cstring", "cstring", "ptr", "usize"], returns: "i64" },
  llistxattr: { args: ["cstring", "ptr", "usize"], returns: "i64" },
}).symbols;
const c = (s: string) => Buffer.from(`${s}\0`);

function xattrs(path: string): Record<string, string> {
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

/** A one-file archive whose header claims `size` bytes (base-256, as GNU tar writes huge sizes), with no data. */
async function hugeClaim(size: number): Promise<Uint8Array> {
  const tar = await packTar([file("huge", "")]);
  const h = tar.subarray(0, 512);
  h.fill(0, 124, 136);
  h[124] = 0x80;
  for (let i = 135, v = size; i > 124; i--, v = Math.floor(v / 256)) h[i] = v % 256;
  h.fill(0x20, 148, 156);
  const sum = h.reduce((a, b) => a + b, 0);
  h.set(Buffer.from(`${sum.toString(8).padStart(6, "0")}\0 `), 148);
  return tar.subarray(0, 512);
}

/** The archive with one byte of a header block changed, as a bad disk or download would. */
const damaged = (tar: Uint8Array, at: number) => {
  const copy = tar.slice();
  copy[at]! ^= 0x01;
  return copy;
};

describe("damaged and oversized archives", () => {
  const cases: [string, () => Promise<Uint8Array>, RegExp][] = [
    ["a huge claimed size", () => hugeClaim(2 ** 45), /claims 35184372088832 bytes, more than the store's file system has free/],
    ["a truncated archive", async () => (await packTar([file("a", "x".repeat(4096))])).subarray(0, 1024), /ends in the middle|truncated/],
    ["an archive cut after an entry, without its end blocks", async () => (await packTar([file("a")])).subarray(0, 1024), /truncated/],
    ["a header whose checksum does not match", async () => damaged(await packTar([file("a"), file("b")]), 1024 + 1), /a damaged tar header/],
    ["a long name's PAX header whose checksum does not match", async () => damaged(await packTar([file(`${"d".repeat(120)}/x`)]), 10), /damaged tar header/],
    [
      "a gzip stream cut short",
      async () => {
        const gz = Bun.gzipSync(await packTar([file("a", "x".repeat(100_000))]));
        return gz.subarray(0, gz.byteLength >> 1);
      },
      /truncated|ends in the middle/,
    ],
    ["gzip data damaged on the way", async () => damaged(Bun.gzipSync(await packTar([file("a", "x".repeat(100_000))])), 40), /not valid gzip|corrupt/],
  ];
  for (const [what, make, message] of cases) test(`${what}: refused, nothing stored`, async () => importRefused(store, await make(), message));
});

describe("left out of an image, with a warning that says why", () => {
  test("a device node, unless --devices", async () => {
    const archive = join(store.dir, "dev.tar");
    writeFileSync(
      archive,
      await packTar([{ header: { name: "dev/", type: "directory", size: 0 } }, { header: { name: "dev/disk", type: "block-device", size: 0, mode: 0o666 } }]),
    );
    const r = await mycfs(["import", "--root", store.root, archive, "devices"]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain("left out of the image (1): dev/disk: block-device 0:0 (device nodes need --devices)\n");
    expect(existsSync(join(imageDir(store.root, "devices:latest"), "dev/disk"))).toBe(false);
    expect((await mycfs(["rmi", "--root", store.root, "devices"])).code).toBe(0);
  });

  test("attributes: overlayfs's own, and one the kernel refuses", async () => {
    const archive = join(store.dir, "xattrs.tar");
    // a security.capability too short to be one: the kernel refuses it (EINVAL)
    const pax = { "SCHILY.xattr.trusted.overlay.opaque": "y", "SCHILY.xattr.security.capability": "bad" };
    writeFileSync(archive, await packTar([{ header: { name: "a", type: "file", size: 1, pax }, body: "a" }]));
    const r = await mycfs(["import", "--root", store.root, archive, "xattrs"]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(
      "left out of the image (2): a: extended attribute trusted.overlay.opaque (overlayfs's own; never taken from an image); " +
        "a: extended attribute security.capability (cannot set it: Invalid argument (EINVAL))\n",
    );
    expect(r.stderr).not.toContain("--devices");
    expect(xattrs(join(imageDir(store.root, "xattrs:latest"), "a"))).toEqual({});
    expect((await mycfs(["rmi", "--root", store.root, "xattrs"])).code).toBe(0);
  });
});

describe("round trip: packed by GNU tar, unpacked by mycfs, entry by entry the same", () => {
  // every kind of entry: files with every kind of mode, owners, hardlinks, symlinks,
  // empty and deep directories, long names, a fifo, devices, extended attributes
  const src = join(store.dir, "tree");
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
  libc.lsetxattr(c(join(src, "exec")), c("user.mycfs"), Buffer.from([0, 0xff, 1, 0x80]), 4, 0);
  libc.lsetxattr(c(join(src, "owned")), c("user.dir"), Buffer.from("on a directory"), 14, 0);
  for (const entry of readdirSync(src, { recursive: true }) as string[]) {
    const t = new Date(Date.UTC(2020, 1, 3, 4, 5, 6));
    if (lstatSync(join(src, entry)).isSymbolicLink()) lutimesSync(join(src, entry), t, t);
    else utimesSync(join(src, entry), t, t);
  }
  utimesSync(src, 1e9, 1e9);
  afterAll(() => rmSync(src, { recursive: true, force: true }));

  function describeTree(root: string, withXattrs: boolean) {
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

  const formats: [string, string[], boolean][] = [
    ["pax, with extended attributes", ["--format=pax", "--xattrs", "--xattrs-include=*"], true],
    ["gnu", ["--format=gnu"], false],
    ["ustar (no name longer than its prefix field)", ["--format=ustar"], false],
  ];
  for (const [format, flags, withXattrs] of formats)
    test(format, async () => {
      const archive = join(store.dir, `roundtrip.tar`);
      const ustar = flags[0] === "--format=ustar";
      const tar = Bun.spawnSync(["tar", ...flags, "-C", src, "-cf", archive, ...(ustar ? ["--exclude", "./llll*"] : []), "."], { stderr: "pipe" });
      expect(tar.stderr.toString()).toBe("");
      const r = await mycfs(["import", "--devices", "--root", store.root, archive, "roundtrip"]);
      expect(r).toMatchObject({ code: 0, stderr: "" });
      const want = describeTree(src, withXattrs).filter((e) => !(ustar && e.path.startsWith("llll")));
      expect(describeTree(imageDir(store.root, "roundtrip:latest"), withXattrs)).toEqual(want);
      expect((await mycfs(["rmi", "--root", store.root, "roundtrip"])).code).toBe(0);
    });
});
