// Images from archives: an OCI image layout built by umoci (two layers: a deleted file
// and an opaque directory in the second), as a directory, as skopeo's oci-archive tar and
// as skopeo's docker-archive (docker save's format). Each becomes the same layered image:
// whiteouts honoured, config kept, layers stored once and freed by rmi.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { mycfs, tempDir, testStore } from "./helpers";
import { buildLayered, LOOK, SEEN } from "./layered";
import { buildLayout } from "./registry/layout";

const work = tempDir("archives");
const store = testStore("image-archives");
afterAll(() => {
  store.cleanup();
  rmSync(work, { recursive: true, force: true });
});
const layout = join(work, "layout");
const sh = (script: string) => {
  const r = Bun.spawnSync(["sh", "-euc", script], { cwd: work, stderr: "pipe" });
  if (r.exitCode !== 0) throw new Error(`${script}: ${r.stderr}`);
};
const everything = () => (existsSync(join(store.root, "layers")) ? readdirSync(join(store.root, "layers")).sort() : []);
/** Layers, without the copies owned by a user namespace's range (MYCFS_IDMAP=0 below). */
const layers = () => everything().filter((d) => !d.includes(".shifted-"));

beforeAll(() => {
  buildLayered(work);
  chmodSync(store.dir, 0o711); // reachable by the root of a user namespace (--userns=auto)
});

describe("mycfs import of image archives", () => {
  test("an OCI layout directory: two layers, the upper's whiteout and opaque directory applied, the config kept", async () => {
    const r = await mycfs(["import", "--root", store.root, layout, "mine:dir"]);
    expect(r).toMatchObject({ code: 0 });
    const record = JSON.parse(readFileSync(join(store.root, "images/mine/dir.json"), "utf8"));
    expect(record.layers).toHaveLength(2);
    expect(record.digest).toBe(r.stdout.trim());
    expect(record.config).toMatchObject({ Entrypoint: ["/bin/echo"], Cmd: ["hello"], Env: ["FOO=bar"], WorkingDir: "/opq", User: "65534" });
    expect(record.version).toBe("2.5");
    expect(layers()).toEqual(record.layers.map((l: string) => l.slice(7)).sort());
    const run = await mycfs(["run", "--rm", "--root", store.root, "--entrypoint", "sh", "mine:dir", "-c", LOOK]);
    expect(run).toMatchObject({ code: 0, stdout: SEEN });
    // the image's Entrypoint, Cmd, Env, WorkingDir and User
    expect(await mycfs(["run", "--rm", "--root", store.root, "mine:dir"])).toMatchObject({ code: 0, stdout: "hello\n" });
    const as = await mycfs(["run", "--rm", "--root", store.root, "--entrypoint", "sh", "mine:dir", "-c", 'echo "$FOO $(pwd) $(id -u)"']);
    expect(as).toMatchObject({ code: 0, stdout: "bar /opq 65534\n" });
    // in a user namespace: the layers id-mapped (one clone of layers/), opaque read from user.*
    const userns = await mycfs(["run", "--rm", "--root", store.root, "--userns=auto", "--entrypoint", "sh", "mine:dir", "-c", `${LOOK}; stat -c %u /kept/k`]);
    expect(userns).toMatchObject({ code: 0, stdout: `${SEEN}0\n` });
    // and without id-mapped mounts: a copy of each layer owned by the range
    const shifted = await mycfs(["run", "--rm", "--root", store.root, "--userns=auto", "--entrypoint", "sh", "mine:dir", "-c", LOOK], {
      env: { MYCFS_IDMAP: "0" },
    });
    expect(shifted).toMatchObject({ code: 0, stdout: SEEN });
  });

  test("the same image as an oci-archive tar and a docker save archive: the same layers, stored once", async () => {
    const before = layers();
    const oci = await mycfs(["import", "--root", store.root, join(work, "oci.tar"), "mine:oci"]);
    expect(oci).toMatchObject({ code: 0 });
    // docker's archive names its image itself; its layers are the uncompressed tars
    const docker = await mycfs(["import", "--root", store.root, join(work, "docker.tar")]);
    expect(docker).toMatchObject({ code: 0 });
    expect(existsSync(join(store.root, "images/archived/v1.json"))).toBe(true);
    expect(layers()).toHaveLength(before.length + 2); // gzip's layers were stored; docker's are the same files uncompressed
    for (const name of ["mine:oci", "archived:v1"]) {
      const run = await mycfs(["run", "--rm", "--root", store.root, "--entrypoint", "sh", name, "-c", LOOK]);
      expect(run).toMatchObject({ code: 0, stdout: SEEN });
    }
    expect((await mycfs(["import", "--root", store.root, join(work, "oci.tar"), "mine:again"])).stderr).toContain("already stored");
    // what mycfs save writes comes back the same (its layers packed anew: stored beside)
    expect((await mycfs(["save", "--root", store.root, "mine:dir", "-o", join(work, "saved.tar")])).code).toBe(0);
    expect(await mycfs(["import", "--root", store.root, join(work, "saved.tar"), "mine:saved"])).toMatchObject({ code: 0 });
    expect(await mycfs(["run", "--rm", "--root", store.root, "--entrypoint", "sh", "mine:saved", "-c", LOOK])).toMatchObject({ code: 0, stdout: SEEN });
  });

  test("rmi frees the layers only the removed image used", async () => {
    const shared = JSON.parse(readFileSync(join(store.root, "images/mine/dir.json"), "utf8")).layers.map((l: string) => l.slice(7));
    for (const name of ["mine:oci", "mine:again", "archived:v1", "mine:saved"]) expect((await mycfs(["rmi", "--root", store.root, name])).code).toBe(0);
    expect(layers()).toEqual(shared.sort());
    expect((await mycfs(["rmi", "--root", store.root, "mine:dir"])).code).toBe(0);
    expect(everything()).toEqual([]);
  });

  test("hostile whiteouts: one of no file is refused; one below another layer's symlink stays in its own layer", async () => {
    await buildLayout(join(work, "hostile-dot"), { layers: [{ entries: [{ file: "etc/.wh..", content: "" }] }] });
    const dot = await mycfs(["import", "--root", store.root, join(work, "hostile-dot"), "hostile:dot"]);
    expect(dot).toMatchObject({ code: 125, stderr: expect.stringContaining("archive entry 'etc/.wh..' is a whiteout of no file") });
    expect([existsSync(join(store.root, "images/hostile")), layers()]).toEqual([false, []]);
    // evil -> /etc in the first layer, evil/.wh.passwd in the second: each layer is unpacked
    // alone, so the whiteout is made in the second layer's own evil/, never in the host's
    // /etc (and overlayfs never follows one layer's symlink into another)
    const built = await buildLayout(join(work, "hostile-link"), {
      layers: [{ entries: [{ symlink: "evil", target: "/etc" }] }, { entries: [{ whiteout: "evil/passwd" }] }],
    });
    expect((await mycfs(["import", "--root", store.root, join(work, "hostile-link"), "hostile:link"])).code).toBe(0);
    const node = statSync(join(store.root, "layers", built.images[0]!.layers[1]!.digest.slice(7), "evil/passwd"));
    expect([node.isCharacterDevice(), node.rdev]).toEqual([true, 0]);
    expect(statSync("/etc/passwd").isFile()).toBe(true);
    expect((await mycfs(["rmi", "--root", store.root, "hostile:link"])).code).toBe(0);
  });

  test("a directory that is no layout, and a layout with a damaged blob, are one clear line each; nothing is stored", async () => {
    const dir = await mycfs(["import", "--root", store.root, work, "x"]);
    expect(dir).toMatchObject({ code: 125, stderr: expect.stringContaining("no OCI image layout") });
    sh("cp -r layout damaged && for b in damaged/blobs/sha256/*; do if [ $(stat -c %s $b) -gt 100000 ]; then chmod u+w $b && printf x >> $b; fi; done");
    const r = await mycfs(["import", "--root", store.root, join(work, "damaged"), "damaged"]);
    expect(r).toMatchObject({
      code: 125,
      stderr: expect.stringMatching(/digest mismatch: .* has sha256 [0-9a-f]{64}, expected [0-9a-f]{64}; nothing was stored/),
    });
    expect([existsSync(join(store.root, "images/damaged")), layers()]).toEqual([false, []]);
  });
});
