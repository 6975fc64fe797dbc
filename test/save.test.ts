// mycfs save: an image as an OCI image layout tar archive, read by the real tools. podman
// loads it under the image's name with its config, skopeo inspects it, umoci unpacks
// exactly the store's files (every kind of entry; a deleted file and an opaque directory
// across two layers); the digests are those of the bytes; the same image always gives
// the same archive; and a save that fails or is interrupted leaves nothing behind.
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { unpackTar } from "modern-tar";
import { parseRef } from "../src/images/refs";
import { type ImageRecord, Store } from "../src/images/store";
import { imageDir, inMountNamespace, MYCFS, mycfs, terminal, testStore, withoutSystemCache } from "./helpers";
import { describeTree, makeEveryKindOfEntry, setXattr } from "./trees";

const store = testStore("save");
afterAll(store.cleanup);
const HOST_ARCH = ({ x64: "amd64", arm64: "arm64" } as Record<string, string>)[process.arch] ?? process.arch;

function run(argv: string[], env: Record<string, string> = {}): string {
  const r = Bun.spawnSync(argv, { stdout: "pipe", stderr: "pipe", env: { ...process.env, ...env } });
  if (r.exitCode !== 0) throw new Error(`${argv.join(" ")} failed (${r.exitCode}): ${r.stderr}`);
  return r.stdout.toString();
}

/** podman with storage, state, locks and network configuration of the test's own (vfs:
 * no mounts): the host's images, containers and settings are never touched. (Loading an
 * archive, it still untars it in /var/tmp, and removes it.) */
const podmanDir = join(store.dir, "podman");
mkdirSync(`${podmanDir}/tmp`, { recursive: true });
writeFileSync(
  `${podmanDir}/containers.conf`,
  `[engine]\nlock_type = "file"\nevents_logger = "none"\nimage_copy_tmp_dir = "${podmanDir}/tmp"\n` +
    `[network]\nnetwork_backend = "cni"\nnetwork_config_dir = "${podmanDir}/networks"\n`,
);
const podman = (...args: string[]) =>
  run(
    withoutSystemCache([
      "podman",
      "--root",
      `${podmanDir}/root`,
      "--runroot",
      `${podmanDir}/runroot`,
      "--tmpdir",
      `${podmanDir}/tmp`,
      "--storage-driver",
      "vfs",
      ...args,
    ]),
    {
      CONTAINERS_CONF: `${podmanDir}/containers.conf`,
    },
  );

const save = (image: string, file: string) => mycfs(["save", "--root", store.root, image, "-o", file]);

/** The archive's files by name, and its image's index, manifest and config, read by hand. */
async function readArchive(file: string) {
  const files = new Map((await unpackTar(readFileSync(file))).map((e) => [e.header.name, e.data ?? new Uint8Array(0)]));
  const json = (name: string) => JSON.parse(new TextDecoder().decode(files.get(name)));
  const blob = (digest: string) => files.get(`blobs/sha256/${digest.slice(7)}`)!;
  const index = json("index.json");
  const manifest = json(`blobs/sha256/${index.manifests[0].digest.slice(7)}`);
  const config = json(`blobs/sha256/${manifest.config.digest.slice(7)}`);
  return { files, index, manifest, config, blob };
}

const sha256 = (bytes: Uint8Array) => `sha256:${new Bun.CryptoHasher("sha256").update(bytes).digest("hex")}`;

/** umoci's unpacking of the archive's image (tag `tag`): its root file system. */
function umociUnpack(file: string, tag: string): string {
  const dir = join(store.dir, `umoci-${tag}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(`${dir}/layout`, { recursive: true });
  run(["tar", "-xf", file, "-C", `${dir}/layout`]);
  run(["umoci", "unpack", "--image", `${dir}/layout:${tag}`, `${dir}/bundle`]);
  return `${dir}/bundle/rootfs`;
}

/** An image written into the store by hand: its layers made by `make`, lowest first. */
function handMade(name: string, config: ImageRecord["config"], layers: ((dir: string) => void)[]): ImageRecord {
  const s = new Store(store.root);
  const digests = layers.map((make, i) => {
    const digest = sha256(new TextEncoder().encode(`${name} ${i}`));
    const dir = s.layer(digest);
    mkdirSync(dir, { recursive: true });
    make(dir);
    return digest;
  });
  const ref = parseRef(name);
  const record: ImageRecord = {
    ref: ref.display,
    version: "",
    source: "test",
    digest: digests.at(-1)!,
    layers: digests,
    config,
    size: 0,
    entries: 0,
    pulled: "2026-01-02T03:04:05.000Z",
  };
  mkdirSync(join(store.root, "images", ref.name), { recursive: true });
  writeFileSync(s.imageFile(ref), JSON.stringify(record));
  return record;
}

describe("the embedded busybox, saved", () => {
  const file = join(store.dir, "busybox.tar");

  test("is an OCI image layout whose digests are those of its bytes", async () => {
    expect(await save("busybox", file)).toMatchObject({ code: 0, stdout: "", stderr: "" });
    const { files, index, manifest, config, blob } = await readArchive(file);
    expect(JSON.parse(new TextDecoder().decode(files.get("oci-layout")))).toEqual({ imageLayoutVersion: "1.0.0" });
    expect(index.manifests).toHaveLength(1);
    expect(index.manifests[0].annotations).toEqual({
      "io.containerd.image.name": "docker.io/library/busybox:latest",
      "org.opencontainers.image.ref.name": "latest",
    });
    for (const d of [index.manifests[0], manifest.config, ...manifest.layers]) {
      expect(sha256(blob(d.digest))).toBe(d.digest);
      expect(blob(d.digest).byteLength).toBe(d.size);
    }
    expect(manifest.layers).toHaveLength(1);
    expect(manifest.layers[0].mediaType).toBe("application/vnd.oci.image.layer.v1.tar+gzip");
    expect(config).toMatchObject({ os: "linux", architecture: HOST_ARCH, config: {}, rootfs: { type: "layers" } });
    expect(config.rootfs.diff_ids).toEqual([sha256(Bun.gunzipSync(blob(manifest.layers[0].digest)))]);
  });

  test("podman loads it under its name", () => {
    expect(podman("load", "-i", file)).toContain("Loaded image: docker.io/library/busybox:latest");
    const [image] = JSON.parse(podman("image", "inspect", "docker.io/library/busybox:latest"));
    expect(image).toMatchObject({ Os: "linux", Architecture: HOST_ARCH, RepoTags: ["docker.io/library/busybox:latest"] });
  });

  test("skopeo inspects it, and umoci unpacks the store's very files", async () => {
    const { manifest } = await readArchive(file);
    const inspected = JSON.parse(run(withoutSystemCache(["skopeo", "inspect", `oci-archive:${file}`])));
    expect(inspected).toMatchObject({ Os: "linux", Architecture: HOST_ARCH, Layers: [manifest.layers[0].digest] });
    expect(describeTree(umociUnpack(file, "latest"), true)).toEqual(describeTree(imageDir(store.root), true));
  });

  test("saved again, to a file or to standard output, it is the same bytes", async () => {
    const again = join(store.dir, "again.tar");
    expect((await save("busybox", again)).code).toBe(0);
    expect(Buffer.compare(readFileSync(again), readFileSync(file))).toBe(0);
    const piped = Bun.spawnSync([MYCFS, "save", "--root", store.root, "busybox"], { stdout: "pipe", stderr: "pipe" });
    expect(piped.exitCode).toBe(0);
    expect(Buffer.compare(piped.stdout, readFileSync(file))).toBe(0);
  });

  test("to a fifo (as to a device: -o /dev/null), written through it, the fifo left as it is", async () => {
    const fifo = join(store.dir, "fifo");
    run(["mkfifo", fifo]);
    const reader = Bun.spawn(["cat", fifo], { stdout: "pipe" });
    expect(await save("busybox", fifo)).toMatchObject({ code: 0, stderr: "" });
    expect(Buffer.compare(Buffer.from(await new Response(reader.stdout).arrayBuffer()), readFileSync(file))).toBe(0);
    expect(lstatSync(fifo).isFIFO()).toBe(true);
  });
});

test("every kind of entry comes out of umoci as it is in the layer", async () => {
  handMade("kinds:1.0", {}, [
    (dir) => {
      makeEveryKindOfEntry(dir);
      // a file capability: a binary extended attribute (CAP_NET_RAW, effective)
      writeFileSync(join(dir, "capable"), "");
      setXattr(join(dir, "capable"), "security.capability", Buffer.from("0100000200200000000000000000000000000000", "hex"));
    },
  ]);
  const file = join(store.dir, "kinds.tar");
  expect(await save("kinds:1.0", file)).toMatchObject({ code: 0, stderr: "" });
  expect(describeTree(umociUnpack(file, "1.0"), true)).toEqual(describeTree(imageDir(store.root, "kinds:1.0"), true));
});

describe("two layers: a deleted file and an opaque directory", () => {
  const config = { Cmd: ["/bin/sh", "-c", "echo hi"], Env: ["PATH=/bin", "MODE=test"], WorkingDir: "/etc", User: "1000:1000", Labels: { made: "by hand" } };
  handMade("layered:v2", config, [
    (lower) => {
      mkdirSync(join(lower, "etc"));
      writeFileSync(join(lower, "etc/kept"), "kept\n");
      writeFileSync(join(lower, "etc/deleted"), "deleted\n");
      mkdirSync(join(lower, "opaque/below"), { recursive: true });
      writeFileSync(join(lower, "opaque/hidden"), "hidden\n");
      writeFileSync(join(lower, "opaque/below/deeper"), "deeper\n");
    },
    (upper) => {
      mkdirSync(join(upper, "etc"));
      run(["mknod", join(upper, "etc/deleted"), "c", "0", "0"]); // overlayfs's whiteout
      mkdirSync(join(upper, "opaque"));
      setXattr(join(upper, "opaque"), "trusted.overlay.opaque", Buffer.from("y"));
      writeFileSync(join(upper, "opaque/shown"), "shown\n");
    },
  ]);
  const file = join(store.dir, "layered.tar");
  const want = ["", "etc", "etc/kept", "opaque", "opaque/shown"];

  test("the upper layer's tar says so in OCI's terms, overlayfs's attribute left out", async () => {
    expect(await save("layered:v2", file)).toMatchObject({ code: 0, stderr: "" });
    const { manifest, config: image, blob } = await readArchive(file);
    expect(image.config).toEqual(config);
    expect(manifest.layers).toHaveLength(2);
    const upper = await unpackTar(Bun.gunzipSync(blob(manifest.layers[1].digest)));
    expect(upper.map((e) => e.header.name)).toEqual(["./", "etc/", "etc/.wh.deleted", "opaque/", "opaque/.wh..wh..opq", "opaque/shown"]);
    expect(upper.flatMap((e) => Object.keys(e.header.pax ?? {}))).toEqual([]);
  });

  test("umoci applies it: the deleted file is gone, the opaque directory holds the upper layer's only", () => {
    const rootfs = umociUnpack(file, "v2");
    expect(describeTree(rootfs, false).map((e) => e.path)).toEqual(want);
    expect(readFileSync(join(rootfs, "opaque/shown"), "utf8")).toBe("shown\n");
  });

  test("podman applies it too, and shows the image's config", () => {
    expect(podman("load", "-i", file)).toContain("Loaded image: docker.io/library/layered:v2");
    const [image] = JSON.parse(podman("image", "inspect", "docker.io/library/layered:v2"));
    expect(image.Config).toMatchObject(config);
    const rootfs = podman("image", "mount", "docker.io/library/layered:v2").trim();
    try {
      expect(describeTree(rootfs, false).map((e) => e.path)).toEqual(want);
    } finally {
      podman("image", "unmount", "docker.io/library/layered:v2");
    }
  });
});

describe("failures leave nothing behind", () => {
  /** What save may have left: files beside the output, and staging in the store. */
  const stageLeft = () => readdirSync(join(store.root, "tmp"));

  test("an image that is not in the store: one line, exit 125, no file", async () => {
    const file = join(store.dir, "missing.tar");
    const r = await save("nosuch:1.0", file);
    expect(r.code).toBe(125);
    expect(r.stderr).toBe(`mycfs: no image nosuch:1.0 in the store ${store.root}; see 'mycfs images'\n`);
    expect(existsSync(file)).toBe(false);
  });

  test("an output in a directory that does not exist", async () => {
    const r = await save("busybox", join(store.dir, "nowhere/busybox.tar"));
    expect(r.code).toBe(125);
    expect(r.stderr).toBe(`mycfs: cannot create ${store.dir}/nowhere/busybox.tar: No such file or directory (ENOENT)\n`);
    expect(stageLeft()).toEqual([]);
  });

  test("a file system that fills up half-way: no partial archive, no staging", async () => {
    const dir = join(store.dir, "full");
    mkdirSync(dir);
    // a 64 KiB tmpfs, mounted for the command alone; what it left there is listed after it
    const r = await mycfs(["save", "--root", store.root, "busybox", "-o", `${dir}/busybox.tar`], {
      wrap: inMountNamespace(`mount -t tmpfs -o size=64k none ${dir} && "$@"; rc=$?; ls -A ${dir}; exit $rc`),
    });
    expect(r).toMatchObject({ code: 125, stdout: "" });
    expect(r.stderr).toBe(`mycfs: cannot write ${dir}/busybox.tar: No space left on device (ENOSPC)\n`);
    expect(stageLeft()).toEqual([]);
  });

  test("refused to a terminal without -o, as docker does", async () => {
    const t = terminal(`${MYCFS} save --root ${store.root} busybox`);
    await t.waitFor("give -o FILE");
    expect(await t.close()).toBe(125);
    expect(t.output().trim().split("\n")).toHaveLength(1);
  });

  test("interrupted (SIGINT) while a layer is packed: exit 130, nothing written", async () => {
    // 2 GiB of zeros, none of them on disk
    handMade("zeros:1", {}, [(dir) => run(["truncate", "-s", "2G", join(dir, "zeros")])]);
    const file = join(store.dir, "zeros.tar");
    const p = Bun.spawn([MYCFS, "save", "--root", store.root, "zeros:1", "-o", file], { stdout: "ignore", stderr: "pipe" });
    // the layer's blob is being written: the packing is under way
    while (!stageLeft().some((d) => existsSync(join(store.root, "tmp", d, "layer-0")))) await Bun.sleep(10);
    p.kill("SIGINT");
    expect(await p.exited).toBe(130);
    expect(await new Response(p.stderr).text()).toBe("mycfs: interrupted by SIGINT; nothing was stored\n");
    expect(readdirSync(store.dir).filter((f) => f.includes("zeros"))).toEqual([]);
    expect(stageLeft()).toEqual([]);
  });
});
