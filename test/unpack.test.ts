// Unpacking archives: damaged ones are refused and store nothing, device nodes and
// attributes that cannot or must not be set are left out with a warning, and honest
// archives come out exactly as GNU tar packed them. (Archives that reach out of the image:
// test/security/cve-2014-6407.test.ts.)
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { packTar } from "modern-tar";
import { file, importRefused } from "./archives";
import { imageDir, mycfs, testStore } from "./helpers";
import { describeTree, makeEveryKindOfEntry, xattrs } from "./trees";

const store = testStore("unpack");
afterAll(store.cleanup);

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
    // (user.overlay.* is what overlayfs reads in a user namespace: a redirect could point
    // a directory of the container at another of the layers)
    const pax = { "SCHILY.xattr.trusted.overlay.opaque": "y", "SCHILY.xattr.user.overlay.redirect": "/etc", "SCHILY.xattr.security.capability": "bad" };
    writeFileSync(archive, await packTar([{ header: { name: "a", type: "file", size: 1, pax }, body: "a" }]));
    const r = await mycfs(["import", "--root", store.root, archive, "xattrs"]);
    expect(r.code).toBe(0);
    expect(r.stderr).toContain(
      "left out of the image (3): a: extended attribute trusted.overlay.opaque (overlayfs's own; never taken from an image); " +
        "a: extended attribute user.overlay.redirect (overlayfs's own; never taken from an image); " +
        "a: extended attribute security.capability (cannot set it: Invalid argument (EINVAL))\n",
    );
    expect(r.stderr).not.toContain("--devices");
    expect(xattrs(join(imageDir(store.root, "xattrs:latest"), "a"))).toEqual({});
    expect((await mycfs(["rmi", "--root", store.root, "xattrs"])).code).toBe(0);
  });
});

describe("round trip: packed by GNU tar, unpacked by mycfs, entry by entry the same", () => {
  const src = join(store.dir, "tree");
  makeEveryKindOfEntry(src);
  afterAll(() => rmSync(src, { recursive: true, force: true }));

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
