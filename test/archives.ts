// Tar archives the tests build entry by entry, and importing one that must be refused.
import { existsSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { expect } from "bun:test";
import type { TarEntry } from "modern-tar";
import { mycfs } from "./helpers";

export const file = (name: string, body: string | Uint8Array = "pwned\n"): TarEntry => ({
  header: { name, type: "file", size: typeof body === "string" ? Buffer.byteLength(body) : body.byteLength },
  body,
});
export const symlink = (name: string, linkname: string): TarEntry => ({ header: { name, type: "symlink", linkname, size: 0 } });
export const hardlink = (name: string, linkname: string): TarEntry => ({ header: { name, type: "link", linkname, size: 0 } });

/** What the store holds of images and their staging. */
const leftovers = (root: string) => ["images", "layers", "tmp"].flatMap((d) => (existsSync(join(root, d)) ? readdirSync(join(root, d)) : []));

/** `mycfs import` of the archive must fail with one line matching `message` and store nothing. */
export async function importRefused(store: { dir: string; root: string }, archive: Uint8Array, message: RegExp) {
  const path = join(store.dir, "hostile.tar");
  writeFileSync(path, archive);
  const r = await mycfs(["import", "--root", store.root, path, "hostile"]);
  expect(r.code).toBe(125);
  expect(r.stderr).toMatch(message);
  expect(r.stderr.trim().split("\n")).toHaveLength(1);
  expect(leftovers(store.root)).toEqual([]);
}
