// Bad input: one clear line naming the input and the fix, exit 125 (127 for a missing
// command), and nothing left on disk.
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { mycfs, testStore } from "./helpers";

const store = testStore("errors");
afterAll(store.cleanup);
const leftovers = () => ["containers", "tmp"].flatMap((d) => (existsSync(join(store.root, d)) ? readdirSync(join(store.root, d)) : []));

describe("bad input", () => {
  const cases: [string, string[], RegExp][] = [
    [
      "a missing --rootfs",
      ["--rootfs", "/nonexistent/rootfs", "true"],
      /^mycfs: --rootfs \/nonexistent\/rootfs: no such directory; give the path of an unpacked root file system\n$/,
    ],
    ["an image name that is none", ["No-Such-Image", "true"], /^mycfs: image reference 'No-Such-Image' is not valid: repository names must be lower-case\n$/],
    [
      "a tag of busybox other than the embedded one",
      ["busybox:0.1", "true"],
      /^mycfs: unknown image 'busybox:0\.1': busybox is the embedded busybox:[\d.]+; for another tag of docker.io's, name it docker.io\/library\/busybox:0\.1\n$/,
    ],
    ["-e without =", ["-e", "FOO", "busybox", "true"], /^mycfs: -e FOO: expected KEY=VALUE, got 'FOO'\n$/],
    ["an unknown flag", ["--frobnicate", "busybox", "true"], /^mycfs: unknown flag '--frobnicate' for 'mycfs run'; see 'mycfs run --help'\n$/],
    [
      "a volume whose host path is missing",
      ["-v", "/nonexistent/dir:/data", "busybox", "true"],
      /^mycfs: -v \/nonexistent\/dir:\/data: host path \/nonexistent\/dir does not exist; create it first\n$/,
    ],
    ["a relative -w", ["-w", "rel", "busybox", "true"], /^mycfs: -w 'rel' must be an absolute path inside the container\n$/],
    ["a flag without its value", ["--hostname"], /^mycfs: flag '--hostname' needs a value; see 'mycfs run --help'\n$/],
    [
      "a --tmpfs size that is no size",
      ["--tmpfs", "/t:size=abc", "busybox", "true"],
      /^mycfs: --tmpfs \/t:size=abc: size=abc: expected bytes with an optional k, m or g suffix, or a percentage of memory \(64m, 50%\)\n$/,
    ],
  ];
  for (const [what, args, message] of cases)
    test(`${what}: exit 125 and one line`, async () => {
      const r = await mycfs(["run", "--root", store.root, ...args]);
      expect(r.code).toBe(125);
      expect(r.stderr).toMatch(message);
      expect(r.stderr.trim().split("\n")).toHaveLength(1);
      expect(r.stdout).toBe("");
      expect(leftovers()).toEqual([]);
    });

  test("an unknown command", async () => {
    expect(await mycfs(["frob"])).toMatchObject({ code: 125, stderr: "mycfs: unknown command 'frob'; see 'mycfs --help'\n" });
  });

  test("a root file system without the command: 127", async () => {
    const empty = join(store.dir, "empty-rootfs");
    mkdirSync(empty, { recursive: true });
    const r = await mycfs(["run", "--rootfs", empty, "/bin/sh"]);
    expect(r).toMatchObject({ code: 127, stderr: "mycfs: /bin/sh: executable file not found inside the container\n" });
  });

  test("a step that fails names itself and the errno", async () => {
    // (a bad tmpfs option would be refused before any step: a file is in the way instead)
    const r = await mycfs(["run", "--root", store.root, "--tmpfs", "/etc/passwd", "busybox", "true"]);
    expect(r.code).toBe(125);
    // the step, the system call of it that failed, and its errno by symbol
    expect(r.stderr).toMatch(/^mycfs: step \d+, mount a tmpfs on \/etc\/passwd: mount: Not a directory \(ENOTDIR\)\n$/);
    expect(leftovers()).toEqual([]);
  });
});

describe("help", () => {
  test("--help before the image shows usage; after it, it belongs to the command", async () => {
    const help = await mycfs(["run", "--help"]);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain("--volume");
    expect(help.stdout).toContain("--no-pivot");
    const store2 = testStore("help");
    try {
      const inner = await mycfs(["run", "--root", store2.root, "busybox", "sh", "-c", "echo $1", "sh", "--help"]);
      expect(inner).toMatchObject({ code: 0, stdout: "--help\n" });
    } finally {
      store2.cleanup();
    }
  });
});
