// `mycfs pull` and `mycfs run` against a real registry (distribution 2.8 on 127.0.0.1):
// a three-layer image (gzip, zstd, uncompressed; a whiteout and an opaque directory in the
// middle one) pulled, stored as layers, run with its config (a non-root USER among it); a
// second pull fetches only the manifest and config; an image sharing a layer stores only
// its own; an index's platforms; a TLS registry through --registry-ca and
// --insecure-registry.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { copyFileSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { parseRef } from "../../src/images/refs";
import { Store } from "../../src/images/store";
import { inMountNamespace, mycfs, tempDir, testStore } from "../helpers";
import { busyboxLayer, setEnv } from "./images";
import { buildLayout, type Entry, type Layout, pushLayout } from "./layout";
import { startRegistry, type TestRegistry } from "./registry";

const dir = tempDir("registry-cli");
const store = testStore("registry-cli");
const restoreEnv = setEnv({ MYCFS_AUTH_FILE: `${dir}/auth.json`, DOCKER_CONFIG: dir });
let registry: TestRegistry;
let tls: TestRegistry;
let layered: Layout;
let base: Entry[];
const amd64 = { os: "linux", architecture: "amd64" };
const arm64 = { os: "linux", architecture: "arm64", variant: "v8" };
const config = {
  Entrypoint: ["/bin/echo"],
  Cmd: ["hello"],
  Env: ["FOO=bar"],
  WorkingDir: "/opt",
  User: "app",
  Labels: { "org.opencontainers.image.version": "1.2" },
  ExposedPorts: { "80/tcp": {} },
};

beforeAll(async () => {
  base = await busyboxLayer();
  registry = await startRegistry();
  tls = await startRegistry({ tls: true });
  const first = [...base, { file: "etc/gone", content: "x" }, { dir: "opt/old" }, { file: "opt/old/a", content: "a" }, { file: "kept", content: "k" }];
  const second: Entry[] = [{ whiteout: "etc/gone" }, { opaque: "opt/old" }, { file: "opt/old/b", content: "b" }];
  layered = await buildLayout(join(dir, "layered"), {
    layers: [{ entries: first }, { entries: second, compression: "zstd" }, { entries: [{ file: "top", content: "t" }], compression: "none" }],
    config,
  });
  await pushLayout(join(dir, "layered"), `${registry.host}/test/layered:1`);
  await pushLayout(join(dir, "layered"), `${tls.host}/test/layered:1`, { caFile: tls.caFile });
  await buildLayout(join(dir, "sibling"), { layers: [{ entries: first }, { entries: [{ file: "sibling", content: "s" }] }], config: { Cmd: ["/bin/sh"] } });
  await pushLayout(join(dir, "sibling"), `${registry.host}/test/sibling:1`);
  await buildLayout(join(dir, "multi"), {
    index: [
      { layers: [{ entries: [{ file: "arch", content: "amd64" }] }], platform: amd64 },
      { layers: [{ entries: [{ file: "arch", content: "arm64" }] }], platform: arm64 },
    ],
  });
  await pushLayout(join(dir, "multi"), `${registry.host}/test/multi:1`);
});
afterAll(async () => {
  restoreEnv();
  await registry?.stop();
  await tls?.stop();
  store.cleanup();
  rmSync(dir, { recursive: true, force: true });
});

const record = (name: string) => new Store(store.root).image(parseRef(name));
const layers = () => (existsSync(join(store.root, "layers")) ? readdirSync(join(store.root, "layers")).sort() : []);
const LOOK = "ls /opt/old; test -e /etc/gone && echo gone-present; cat /kept /top";

describe("mycfs pull from a registry", () => {
  test("three layers, each compression, stored once each; the config and platform recorded", async () => {
    const image = `${registry.host}/test/layered:1`;
    const r = await mycfs(["pull", "--root", store.root, image]);
    expect(r).toMatchObject({ code: 0, stdout: `${layered.digest}\n` });
    // one line per layer where there is no terminal
    expect(r.stderr.match(/^mycfs: [0-9a-f]{12}: .* in [\d.]+ s$/gm)).toHaveLength(3);
    const rec = record(image)!;
    expect(rec).toMatchObject({ ref: image, digest: layered.digest, version: "1.2", config, platform: amd64, source: `${registry.host}/test/layered` });
    expect(rec.layers).toEqual(layered.images[0]!.layers.map((l) => l.digest));
    expect(layers()).toEqual(rec.layers.map((l) => l.slice(7)).sort());
    expect((await mycfs(["images", "--root", store.root])).stdout).toContain(`${image}  1.2      linux/amd64       3`);
  });

  test("run: the whiteout and opaque directory applied, the image's entrypoint, command, env and workdir", async () => {
    const image = `${registry.host}/test/layered:1`;
    expect(await mycfs(["run", "--rm", "--root", store.root, "--entrypoint", "sh", image, "-c", LOOK])).toMatchObject({ code: 0, stdout: "b\nkt" });
    expect(await mycfs(["run", "--rm", "--root", store.root, image])).toMatchObject({ code: 0, stdout: "hello\n" });
    expect(await mycfs(["run", "--rm", "--root", store.root, "--entrypoint", "sh", image, "-c", 'echo "$FOO $(pwd) $HOME"'])).toMatchObject({
      stdout: "bar /opt /home/app\n",
    });
    // the image's non-root USER, its groups from the image's /etc/group
    expect(await mycfs(["run", "--rm", "--root", store.root, "--entrypoint", "id", image])).toMatchObject({
      code: 0,
      stdout: "uid=1000(app) gid=1000(app) groups=1000(app),2000(extra)\n",
    });
  });

  test("pulled again: the manifest and config only; an image sharing a layer fetches only its own", async () => {
    const again = await mycfs(["pull", "--root", store.root, `${registry.host}/test/layered:1`]);
    expect(again).toMatchObject({ code: 0, stderr: expect.stringContaining("is up to date") });
    const before = layers();
    const sibling = await mycfs(["run", "--rm", "--root", store.root, `${registry.host}/test/sibling:1`, "cat", "/sibling", "/kept"]);
    expect(sibling).toMatchObject({ code: 0, stdout: "sk" });
    expect(sibling.stderr).toMatch(/: already stored$/m);
    expect(layers()).toHaveLength(before.length + 1);
  });

  test("rmi frees only the layers no other image uses", async () => {
    const shared = record(`${registry.host}/test/sibling:1`)!.layers;
    expect((await mycfs(["rmi", "--root", store.root, `${registry.host}/test/layered:1`])).code).toBe(0);
    expect(layers()).toEqual(shared.map((l) => l.slice(7)).sort());
    expect((await mycfs(["rmi", "--root", store.root, `${registry.host}/test/sibling:1`])).code).toBe(0);
    expect(layers()).toEqual([]);
  });

  test("an index: this machine's platform by default, another with --platform", async () => {
    const image = `${registry.host}/test/multi:1`;
    expect((await mycfs(["pull", "--root", store.root, image])).code).toBe(0);
    expect(record(image)!.platform).toEqual(amd64);
    expect((await mycfs(["pull", "--root", store.root, "--platform", "linux/arm64", image])).code).toBe(0);
    const arm = record(image)!;
    expect(arm.platform).toMatchObject({ architecture: "arm64" });
    expect(readFileSync(join(store.root, "layers", arm.layers[0]!.slice(7), "arch"), "utf8")).toBe("arm64");
    expect((await mycfs(["rmi", "--root", store.root, image])).code).toBe(0);
  });

  test("what is not there, and a bad name: one line each, exit 125, nothing stored", async () => {
    const missing = await mycfs(["pull", "--root", store.root, `${registry.host}/test/nothing:1`]);
    expect(missing).toMatchObject({ code: 125, stdout: "" });
    expect(missing.stderr.trim().split("\n").at(-1)).toContain(`${registry.host}/test/nothing`);
    expect((await mycfs(["pull", "--root", store.root, `${registry.host}/Test:1`])).code).toBe(125);
    expect(layers()).toEqual([]);
  });

  test("TLS: trusted with --registry-ca, refused without it (naming both ways out), taken with --insecure-registry", async () => {
    const image = `${tls.host}/test/layered:1`;
    const refused = await mycfs(["pull", "--root", store.root, image]);
    expect(refused).toMatchObject({ code: 125, stderr: expect.stringContaining("--registry-ca FILE, or skip verification with --insecure-registry") });
    expect(await mycfs(["pull", "--root", store.root, "--registry-ca", tls.caFile!, image])).toMatchObject({ code: 0, stdout: `${layered.digest}\n` });
    expect((await mycfs(["rmi", "--root", store.root, image])).code).toBe(0);
    expect(await mycfs(["pull", "--root", store.root, "--insecure-registry", image])).toMatchObject({ code: 0, stdout: `${layered.digest}\n` });
    expect((await mycfs(["rmi", "--root", store.root, image])).code).toBe(0);
  });

  test("TLS: trusted through the host's certs.d, as docker and podman keep a registry's CA", async () => {
    const image = `${tls.host}/test/layered:1`;
    // certs.d/HOST:PORT/ca.crt, seen at /etc/containers in a mount namespace of the test's own
    const etc = join(dir, "etc-containers");
    mkdirSync(join(etc, "certs.d", tls.host), { recursive: true });
    copyFileSync(tls.caFile!, join(etc, "certs.d", tls.host, "ca.crt"));
    const wrap = inMountNamespace(`mount --bind ${etc} /etc/containers && exec "$@"`);
    expect(await mycfs(["pull", "--root", store.root, image], { wrap })).toMatchObject({ code: 0, stdout: `${layered.digest}\n` });
    expect((await mycfs(["rmi", "--root", store.root, image])).code).toBe(0);
  });
});
