// src/images/read-file.ts: a file of a stack of layer directories, merged as overlayfs
// merges them (whiteouts, opaque directories, symlinks followed in the merged view), on
// layer directories made here as root (mknod c 0 0 for whiteouts; the opaque attributes
// set through libmycfs, as the unpacker sets attributes).
import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { readLayered } from "../src/images/read-file";
import { close, entry, openPathDir } from "../src/native/lib";
import { tempDir } from "./helpers";

const dir = tempDir("read-file");
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let count = 0;

/** A layer directory with these entries: text is a file, "whiteout" a whiteout, "->x" a
 * symlink to x, "dir" a directory, "opaque"/"user-opaque" an opaque one, "fifo" a fifo. */
function layer(entries: Record<string, string>): string {
  const root = join(dir, `layer${count++}`);
  mkdirSync(root);
  for (const [path, what] of Object.entries(entries)) {
    const p = join(root, path);
    mkdirSync(join(p, ".."), { recursive: true });
    if (what === "whiteout") expect(Bun.spawnSync(["mknod", p, "c", "0", "0"]).exitCode).toBe(0);
    else if (what.startsWith("->")) symlinkSync(what.slice(2), p);
    else if (what === "fifo") expect(Bun.spawnSync(["mkfifo", p]).exitCode).toBe(0);
    else if (what === "dir" || what.endsWith("opaque")) {
      mkdirSync(p, { recursive: true });
      if (what !== "dir") {
        const fd = entry.openRoot(root);
        expect(entry.xattr(fd, path, what === "opaque" ? "trusted.overlay.opaque" : "user.overlay.opaque", new TextEncoder().encode("y"))).toBe(0);
        entry.closeRoot(fd);
      }
    } else writeFileSync(p, what);
  }
  return root;
}

/** readLayered over these layers, the lowest first (as an image record lists them). */
function read(layers: string[], path = "/etc/passwd", max = 1 << 20): string | null {
  const fds = layers.toReversed().map(openPathDir);
  try {
    return readLayered(fds, path, max, `the image's ${path}`);
  } finally {
    fds.forEach(close);
  }
}

const base = layer({ "etc/passwd": "lower\n", "etc/group": "lower group\n", "usr/etc/passwd": "usr\n" });

describe("readLayered", () => {
  test("the topmost layer that has the file wins; a directory merges with the ones below", () => {
    expect(read([base])).toBe("lower\n");
    expect(read([base, layer({ "etc/passwd": "upper\n" })])).toBe("upper\n");
    expect(read([base, layer({ "etc/passwd": "upper\n" })], "/etc/group")).toBe("lower group\n");
    expect(read([base, layer({ etc: "dir" }), layer({ "etc/other": "x" })])).toBe("lower\n");
    expect(read([base], "/etc/shadow")).toBeNull();
  });

  test("a whiteout deletes the file, or the directory above it, in the layers below", () => {
    expect(read([base, layer({ "etc/passwd": "whiteout" })])).toBeNull();
    expect(read([base, layer({ "etc/passwd": "whiteout" })], "/etc/group")).toBe("lower group\n");
    expect(read([base, layer({ etc: "whiteout" })])).toBeNull();
    // deleted, then made again higher up
    expect(read([base, layer({ "etc/passwd": "whiteout" }), layer({ "etc/passwd": "again\n" })])).toBe("again\n");
  });

  test("an opaque directory hides what the layers below have in it, whichever attribute marks it", () => {
    for (const mark of ["opaque", "user-opaque"]) {
      const upper = layer({ etc: mark, "etc/passwd": "opaque upper\n" });
      expect(read([base, upper])).toBe("opaque upper\n");
      expect(read([base, upper], "/etc/group")).toBeNull();
      expect(read([base, upper, layer({ "etc/group": "above\n" })], "/etc/group")).toBe("above\n");
    }
  });

  test("a file where a directory was hides the directory below", () => {
    expect(read([base, layer({ etc: "not a directory" })])).toBeNull();
  });

  test("symlinks are followed in the merged view, across layers, and never out of it", () => {
    expect(read([base, layer({ etc: "->usr/etc" })])).toBe("usr\n");
    expect(read([base, layer({ etc: "->/usr/etc" })])).toBe("usr\n");
    expect(read([base, layer({ "etc/passwd": "->../usr/etc/passwd" })])).toBe("usr\n");
    // .. and absolute links stop at the image's root: the host's /etc/passwd is never read
    writeFileSync(join(dir, "canary"), "host\n");
    expect(read([base, layer({ "etc/passwd": "->../../../../../canary" })])).toBeNull();
    expect(read([base, layer({ "etc/passwd": `->${join(dir, "canary")}` })])).toBeNull();
    expect(read([base, layer({ "etc/passwd": "->/../../etc/group" })])).toBe("lower group\n");
    expect(() => read([layer({ "etc/passwd": "->/etc/passwd" })])).toThrow("symbolic links");
    // a symlink in a lower layer under a directory of an upper one is hidden by it
    expect(read([layer({ etc: "->usr/etc", "usr/etc/passwd": "usr\n" }), layer({ "etc/group": "g\n" })])).toBeNull();
  });

  test("only a regular file is read, and only up to the bound: a fifo never blocks the reader", () => {
    expect(() => read([base, layer({ "etc/passwd": "fifo" })])).toThrow("the image's /etc/passwd is not a regular file");
    expect(() => read([base, layer({ "etc/passwd": "dir" })])).toThrow("not a regular file");
    expect(() => read([base], "/etc/passwd", 3)).toThrow("the image's /etc/passwd is larger than 3 bytes");
    expect(read([base], "/etc/passwd", 6)).toBe("lower\n");
  });
});
