// An archive's entries as data: names cleaned or refused (src/images/unpack.ts), header
// blocks checked by libmycfs (csrc/tar_headers.c). Unpacking them: unpack.test.ts.
import { describe, expect, test } from "bun:test";
import { packTar } from "modern-tar";
import { entryPath } from "../src/images/unpack";
import { entry } from "../src/native/lib";
import { file } from "./archives";

describe("entry names", () => {
  test("plain names pass as they are; others are cleaned, or refused if they lead out", () => {
    const names: [string, string | null][] = [
      ["a", "a"],
      ["a/b", "a/b"],
      ["a/b/", "a/b"],
      ["./a", "a"],
      ["a//b", "a/b"],
      ["a/./b", "a/b"],
      [".", null],
      ["./", null],
      ["", null],
      [".a/..b", ".a/..b"],
      ["a/.../b", "a/.../b"],
      ["..a", "..a"],
    ];
    for (const [name, path] of names) expect([name, entryPath(name)]).toEqual([name, path]);
    for (const name of ["/a", "../a", "a/../b", "a/..", "..", "a\0b"]) expect(() => entryPath(name)).toThrow(/points outside the image/);
  });
});

describe("header blocks", () => {
  /** An entry's header blocks as packTar lays them out: everything before its data. */
  const headers = async (name: string, body = "") => {
    const tar = await packTar([file(name, body)]);
    const own = tar.byteLength - 1024 - Math.ceil(body.length / 512) * 512; // less its data and the end blocks
    return tar.slice(0, own);
  };

  test("a plain header, and a PAX header leading to the entry's own", async () => {
    expect(entry.headersOk(await headers("a", "x"))).toBe(true);
    const long = await headers("f".repeat(120));
    expect(long.byteLength).toBe(3 * 512); // PAX header, its body, the entry's header
    expect(entry.headersOk(long)).toBe(true);
  });

  test("a changed byte, a wrong size, a partial block or a stray block is refused", async () => {
    const plain = await headers("a", "x");
    for (const at of [0, 100, 148, 156, 300, 511]) {
      const copy = plain.slice();
      copy[at]! ^= 0x01;
      expect([at, entry.headersOk(copy)]).toEqual([at, false]);
    }
    const long = await headers("f".repeat(120));
    expect(entry.headersOk(long.subarray(0, 1024))).toBe(false); // the PAX header without the entry's own
    expect(entry.headersOk(long.subarray(512))).toBe(false); // a body taken as a header
    expect(entry.headersOk(plain.subarray(0, 511))).toBe(false);
    expect(entry.headersOk(new Uint8Array(0))).toBe(false);
    expect(entry.headersOk(new Uint8Array([...plain, ...plain]))).toBe(false); // an entry's header is no meta header
  });
});
