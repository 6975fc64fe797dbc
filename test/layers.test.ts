// Copy-on-write roots: every container writes to a layer of its own on top of the shared,
// read-only image; --rm removes the layer, without it the container is kept; --read-only;
// rmi refuses an image in use; and a copy where overlayfs cannot be mounted.
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { imageDir, mycfs, overlayMount, tempDir, testStore } from "./helpers";

const store = testStore("layers");
afterAll(store.cleanup);
const run = (args: string[], script: string) => mycfs(["run", "--root", store.root, ...args, "busybox", "sh", "-c", script]);
const containers = () => (existsSync(join(store.root, "containers")) ? readdirSync(join(store.root, "containers")) : []);

describe("copy-on-write roots", () => {
  test("a container's write stays in its own kept layer: the image and the next container never see it", async () => {
    const before = containers();
    expect(await run([], "echo mine > /etc/written && echo ok")).toMatchObject({ code: 0, stdout: "ok\n" });
    const [kept, ...more] = containers().filter((c) => !before.includes(c));
    expect(more).toEqual([]);
    expect(readFileSync(join(store.root, "containers", kept!, "upper/etc/written"), "utf8")).toBe("mine\n");
    expect(JSON.parse(readFileSync(join(store.root, "containers", kept!, "container.json"), "utf8"))).toMatchObject({ id: kept, image: "busybox:latest" });
    expect(existsSync(join(imageDir(store.root), "etc/written"))).toBe(false);
    expect((await run(["--rm"], "cat /etc/written || echo absent")).stdout).toBe("absent\n");
  });

  test("--rm removes the container's directory when it ends, whatever its exit code", async () => {
    const before = containers();
    expect((await run(["--rm"], "echo x > /x; exit 3")).code).toBe(3);
    expect(containers()).toEqual(before);
  });

  test("a layer removed at the end is mounted volatile (no sync at unmount); a kept one is not", async () => {
    const root = "grep '^overlay / ' /proc/mounts";
    expect((await run(["--rm"], root)).stdout).toMatch(/\bvolatile\b|fsync=volatile/);
    const kept = await run(["--name", "kept-layer"], root);
    expect(kept.stdout).toContain("upperdir=");
    expect(kept.stdout).not.toMatch(/volatile/);
    expect((await mycfs(["rm", "--root", store.root, "kept-layer"])).code).toBe(0);
  });

  test("a container that never starts is not kept", async () => {
    const before = containers();
    expect((await mycfs(["run", "--root", store.root, "busybox", "/no/such/command"])).code).toBe(127);
    expect(containers()).toEqual(before);
  });

  test("--read-only: the root cannot be written, /tmp can", async () => {
    const r = await run(["--rm", "--read-only"], "touch /etc/x 2>&1; echo t > /tmp/t && cat /tmp/t; grep ' / ' /proc/mounts");
    expect(r.stdout).toContain("touch: /etc/x: Read-only file system");
    expect(r.stdout).toContain("t\n");
    expect(r.stdout).toMatch(/^overlay \/ overlay ro,/m);
  });

  test("rmi is refused while a kept container uses the image, and frees it after", async () => {
    const root = join(store.dir, "rmi");
    expect((await mycfs(["run", "--root", root, "busybox", "true"])).code).toBe(0);
    const [id] = readdirSync(join(root, "containers"));
    const refused = await mycfs(["rmi", "--root", root, "busybox"]);
    expect(refused).toMatchObject({ code: 125, stderr: expect.stringContaining(`image busybox:latest is used by 1 container (${id!.slice(0, 12)})`) });
    rmSync(join(root, "containers", id!), { recursive: true });
    expect(await mycfs(["rmi", "--root", root, "busybox"])).toMatchObject({ code: 0, stderr: "mycfs: removed busybox:latest\n" });
    expect([readdirSync(join(root, "images/busybox")), readdirSync(join(root, "layers"))]).toEqual([[], []]);
    expect((await mycfs(["rmi", "--root", root, "busybox"])).stderr).toContain("no image busybox:latest in the store");
  });

  test("where overlayfs cannot be mounted (a store on overlayfs), the container runs on a copy", async () => {
    const overlay = overlayMount(tempDir("on-overlay"));
    try {
      const root = join(overlay.merged, "store");
      const r = await mycfs(["run", "--rm", "--debug", "--root", root, "busybox", "sh", "-c", "echo copy > /x && cat /x /etc/os-release"]);
      expect(r.code).toBe(0);
      expect(r.stdout).toStartWith("copy\n");
      expect(r.stderr).toMatch(/debug: overlayfs cannot be mounted here \(.*\): copying the image instead/);
      expect(existsSync(join(imageDir(root), "x"))).toBe(false);
      expect(readdirSync(join(root, "containers"))).toEqual([]);
    } finally {
      overlay.remove();
    }
  });
});
