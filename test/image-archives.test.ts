// Images from archives: an OCI image layout built by umoci (two layers: a deleted file
// and an opaque directory in the second), as a directory, as skopeo's oci-archive tar and
// as skopeo's docker-archive (docker save's format). Each becomes the same layered image:
// whiteouts honoured, config kept, layers stored once and freed by rmi.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { mycfs, tempDir, testStore } from "./helpers";

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
const layers = () => (existsSync(join(store.root, "layers")) ? readdirSync(join(store.root, "layers")).sort() : []);

beforeAll(() => {
  const busybox = resolve("build/busybox.tar.gz");
  sh(`umoci init --layout layout && umoci new --image layout:t
umoci unpack --image layout:t b1 >/dev/null && tar -C b1/rootfs -xzf ${busybox}
mkdir b1/rootfs/opq b1/rootfs/kept && echo a > b1/rootfs/opq/a && echo k > b1/rootfs/kept/k && echo x > b1/rootfs/delme
umoci repack --image layout:t b1 && rm -rf b1
umoci unpack --image layout:t b2 >/dev/null && rm b2/rootfs/delme && rm -r b2/rootfs/opq && mkdir b2/rootfs/opq && echo b > b2/rootfs/opq/b
umoci repack --image layout:t b2 && rm -rf b2
umoci config --image layout:t --config.entrypoint /bin/echo --config.cmd hello --config.env FOO=bar --config.workingdir /opq --config.user 65534 --config.label org.opencontainers.image.version=2.5
skopeo copy -q oci:layout:t oci-archive:oci.tar:t
skopeo copy -q oci:layout:t docker-archive:docker.tar:archived:v1`);
});

const look = "ls /opq; test -e /delme && echo delme-present; cat /kept/k";

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
    const run = await mycfs(["run", "--rm", "--root", store.root, "mine:dir", "sh", "-c", look]);
    expect(run).toMatchObject({ code: 0, stdout: "b\nk\n" });
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
      const run = await mycfs(["run", "--rm", "--root", store.root, name, "sh", "-c", look]);
      expect(run).toMatchObject({ code: 0, stdout: "b\nk\n" });
    }
    expect((await mycfs(["import", "--root", store.root, join(work, "oci.tar"), "mine:again"])).stderr).toContain("already stored");
  });

  test("rmi frees the layers only the removed image used", async () => {
    const shared = JSON.parse(readFileSync(join(store.root, "images/mine/dir.json"), "utf8")).layers.map((l: string) => l.slice(7));
    for (const name of ["mine:oci", "mine:again", "archived:v1"]) expect((await mycfs(["rmi", "--root", store.root, name])).code).toBe(0);
    expect(layers()).toEqual(shared.sort());
    expect((await mycfs(["rmi", "--root", store.root, "mine:dir"])).code).toBe(0);
    expect(layers()).toEqual([]);
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
