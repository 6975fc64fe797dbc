import { expect, test } from "bun:test";
import * as node from "node:path";
import { dirname, join, normalize, resolve } from "../src/paths";

const samples = [
  "",
  ".",
  "..",
  "/",
  "//",
  "///a",
  "a",
  "a/",
  "./a",
  "../a",
  "a/..",
  "a/../..",
  "/..",
  "/a/../..",
  "a//b",
  "/a/b/",
  "/a/./b/../c/",
  "a/b/c/../../..",
  "./",
  "../",
  "/a//b",
  "//a",
  "a/b/",
  "/mycfs/x.json",
  "rel/./dir/../f",
];

test("normalize and dirname agree with node:path", () => {
  for (const p of samples) {
    expect([p, normalize(p)]).toEqual([p, node.posix.normalize(p)]);
    expect([p, dirname(p)]).toEqual([p, node.posix.dirname(p)]);
  }
});

test("join and resolve agree with node:path", () => {
  const pairs = samples.flatMap((a) => samples.slice(0, 12).map((b) => [a, b] as const));
  for (const [a, b] of pairs) {
    expect([a, b, join(a, b)]).toEqual([a, b, node.posix.join(a, b)]);
    expect([a, b, resolve(a, b)]).toEqual([a, b, node.posix.resolve(a, b)]);
  }
  expect(join("/run", "mycfs", "", "x")).toBe("/run/mycfs/x");
  expect(resolve()).toBe(process.cwd());
});
