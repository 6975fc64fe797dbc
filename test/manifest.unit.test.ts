// Manifests, indexes and configs as registries send them, platforms as docker picks them.
import { describe, expect, test } from "bun:test";
import { parseImageConfig } from "../src/images/image-config";
import { MEDIA, parseManifest, selectManifest, type ImageIndex } from "../src/images/manifest";
import { formatPlatform, hostPlatform, normalizePlatform, parsePlatform, platformRank } from "../src/images/platform";

const digest = (n: number) => `sha256:${n.toString(16).padStart(64, "0")}`;
const json = (x: unknown) => new TextEncoder().encode(JSON.stringify(x));
const entry = (n: number, platform: object, mediaType: string = MEDIA.dockerManifest) => ({ mediaType, digest: digest(n), size: 100 + n, platform });

describe("platforms", () => {
  test.each([
    [{ os: "linux", architecture: "x86_64" }, "linux/amd64"],
    [{ os: "Linux", architecture: "amd64", variant: "v1" }, "linux/amd64"],
    [{ os: "linux", architecture: "aarch64", variant: "v8" }, "linux/arm64"],
    [{ os: "linux", architecture: "arm64", variant: "8" }, "linux/arm64"],
    [{ os: "linux", architecture: "armhf" }, "linux/arm/v7"],
    [{ os: "linux", architecture: "armel" }, "linux/arm/v6"],
    [{ os: "linux", architecture: "arm" }, "linux/arm/v7"],
    [{ os: "linux", architecture: "arm", variant: "6" }, "linux/arm/v6"],
    [{ os: "linux", architecture: "i386" }, "linux/386"],
    [{ os: "linux", architecture: "riscv64" }, "linux/riscv64"],
  ])("%o is %s", (p, s) => expect(formatPlatform(normalizePlatform(p))).toBe(s));

  test("this machine's, as docker names it", () => {
    const arch = { x64: "amd64", arm64: "arm64" }[process.arch as string];
    expect(hostPlatform()).toEqual({ os: "linux", architecture: arch! });
  });

  test.each([
    ["linux/arm64/v8", "linux/arm64"],
    ["linux/amd64", "linux/amd64"],
    ["linux/arm/v7", "linux/arm/v7"],
    ["arm64", "linux/arm64"],
    ["linux", formatPlatform(hostPlatform())],
  ])("--platform %s is %s", (s, p) => expect(formatPlatform(parsePlatform(s))).toBe(p));

  test.each(["", "linux//arm64", "linux/amd64/v1/x", "linux/amd 64", "nonsense"])("--platform %p is refused", (s) => {
    expect(() => parsePlatform(s)).toThrow(`platform '${s}' is not valid: give os/arch[/variant]`);
  });

  test("an arm64 machine runs arm64 with or without v8 first, then 32-bit arm", () => {
    const arm64 = { os: "linux", architecture: "aarch64" };
    expect(platformRank(arm64, { os: "linux", architecture: "arm64" })).toBe(0);
    expect(platformRank(arm64, { os: "linux", architecture: "arm64", variant: "v8" })).toBe(0);
    expect(platformRank(arm64, { os: "linux", architecture: "arm", variant: "v7" })).toBe(2);
    expect(platformRank(arm64, { os: "linux", architecture: "amd64" })).toBeNull();
    expect(platformRank(arm64, { os: "windows", architecture: "arm64" })).toBeNull();
    expect(platformRank({ os: "linux", architecture: "arm", variant: "v6" }, { os: "linux", architecture: "arm", variant: "v7" })).toBeNull();
    expect(platformRank({ os: "linux", architecture: "amd64" }, { os: "linux", architecture: "386" })).toBe(1);
  });
});

describe("indexes", () => {
  const list = (manifests: object[], mediaType: string = MEDIA.dockerList) =>
    parseManifest(json({ schemaVersion: 2, mediaType, manifests }), "", "img") as ImageIndex;
  const index = list([
    entry(1, { os: "linux", architecture: "amd64" }),
    entry(2, { os: "linux", architecture: "arm", variant: "v7" }),
    entry(3, { os: "linux", architecture: "arm64", variant: "v8" }),
    entry(4, { os: "windows", architecture: "amd64" }),
    entry(5, { os: "unknown", architecture: "unknown" }, MEDIA.ociManifest),
  ]);

  test("parsed, each entry with its platform", () => {
    expect(index.kind).toBe("index");
    expect(index.manifests[2]).toEqual({
      mediaType: MEDIA.dockerManifest,
      digest: digest(3),
      size: 103,
      platform: { os: "linux", architecture: "arm64", variant: "v8" },
    });
  });

  test("each platform picks its entry; arm64 without a variant takes arm64/v8", () => {
    expect(selectManifest(index, { os: "linux", architecture: "amd64" }, "img").digest).toBe(digest(1));
    expect(selectManifest(index, { os: "linux", architecture: "arm64" }, "img").digest).toBe(digest(3));
    expect(selectManifest(index, parsePlatform("linux/arm/v7"), "img").digest).toBe(digest(2));
    expect(selectManifest(index, { os: "windows", architecture: "amd64" }, "img").digest).toBe(digest(4));
  });

  test("the best rank wins over the order: arm64 before arm/v7 listed first", () => {
    const i = list([entry(2, { os: "linux", architecture: "arm", variant: "v7" }), entry(3, { os: "linux", architecture: "arm64" })], MEDIA.ociIndex);
    expect(selectManifest(i, { os: "linux", architecture: "arm64" }, "img").digest).toBe(digest(3));
    expect(selectManifest(list([entry(2, { os: "linux", architecture: "arm", variant: "v7" })]), { os: "linux", architecture: "arm64" }, "img").digest).toBe(
      digest(2),
    );
  });

  test("no entry for the platform: the error lists those there are (attestations not)", () => {
    expect(() => selectManifest(index, { os: "linux", architecture: "s390x" }, "img")).toThrow(
      "img has no image for linux/s390x: it has linux/amd64, linux/arm/v7, linux/arm64/v8, windows/amd64; choose one with --platform",
    );
  });

  test("an OCI index without mediaType is known by its manifests", () => {
    expect(parseManifest(json({ schemaVersion: 2, manifests: [] }), "application/json", "img").kind).toBe("index");
  });
});

describe("manifests", () => {
  const layer = (n: number, mediaType: string) => ({ mediaType, digest: digest(n), size: n });
  const manifest = (layers: object[], config = "application/vnd.oci.image.config.v1+json") =>
    json({ schemaVersion: 2, mediaType: MEDIA.ociManifest, config: { mediaType: config, digest: digest(9), size: 9 }, layers });

  test("layers of every supported type, with their compression", () => {
    const m = parseManifest(
      manifest([
        layer(1, "application/vnd.oci.image.layer.v1.tar+gzip"),
        layer(2, "application/vnd.oci.image.layer.v1.tar+zstd"),
        layer(3, "application/vnd.oci.image.layer.v1.tar"),
        layer(4, "application/vnd.docker.image.rootfs.diff.tar.gzip"),
        layer(5, "application/vnd.docker.image.rootfs.diff.tar"),
      ]),
      MEDIA.ociManifest,
      "img",
    );
    if (m.kind !== "manifest") throw new Error("not a manifest");
    expect(m.config).toEqual({ mediaType: "application/vnd.oci.image.config.v1+json", digest: digest(9), size: 9 });
    expect(m.layers.map((l) => l.compression)).toEqual(["gzip", "zstd", "none", "gzip", "none"]);
    expect(m.layers[0]).toEqual({ mediaType: "application/vnd.oci.image.layer.v1.tar+gzip", digest: digest(1), size: 1, compression: "gzip" });
  });

  test.each([
    [json({ schemaVersion: 1, name: "x", fsLayers: [] }), MEDIA.schema1Signed, "img has a schema 1 manifest"],
    [json({ name: "x" }), MEDIA.schema1, "img has a schema 1 manifest"],
    [manifest([layer(1, "application/vnd.docker.image.rootfs.foreign.diff.tar.gzip")]), "", "foreign (non-distributable) layer"],
    [manifest([layer(1, "application/vnd.oci.image.layer.nondistributable.v1.tar+gzip")]), "", "foreign (non-distributable) layer"],
    [
      manifest([layer(1, "application/vnd.oci.image.layer.v1.tar+bzip2")]),
      "",
      "a layer of type application/vnd.oci.image.layer.v1.tar+bzip2, which mycfs cannot unpack",
    ],
    [manifest([], "application/vnd.cncf.helm.config.v1+json"), "", "img is not a container image: its config is application/vnd.cncf.helm.config.v1+json"],
    [manifest([{ mediaType: "application/vnd.oci.image.layer.v1.tar", digest: `sha512:${"a".repeat(128)}`, size: 1 }]), "", "layers[0] has the digest"],
    [manifest([{ mediaType: "application/vnd.oci.image.layer.v1.tar", digest: digest(1), size: -1 }]), "", "layers[0] has no size"],
    [json({ schemaVersion: 2, mediaType: MEDIA.ociManifest }), "", "config is not an object"],
    [new TextEncoder().encode("<html>"), "text/html", "the manifest of img is not a JSON object"],
    [json({ schemaVersion: 3 }), "", "schemaVersion 3"],
  ])("refused: %#", (bytes, type, why) => {
    expect(() => parseManifest(bytes, type, "img")).toThrow(why);
  });
});

describe("image configs", () => {
  const base = { architecture: "arm64", os: "linux", variant: "v8", rootfs: { type: "layers", diff_ids: [digest(1), digest(2)] } };

  test("the fields mycfs keeps, docker's nulls and empty strings left out", () => {
    const config = {
      Entrypoint: ["/entry"],
      Cmd: null,
      Env: ["PATH=/bin", "A=b"],
      WorkingDir: "",
      User: "1000:1000",
      StopSignal: "SIGQUIT",
      Labels: { a: "b" },
      ExposedPorts: { "80/tcp": {} },
      Healthcheck: { Test: ["NONE"] },
    };
    expect(parseImageConfig(json({ ...base, config, history: [] }), "img")).toEqual({
      config: {
        Entrypoint: ["/entry"],
        Env: ["PATH=/bin", "A=b"],
        User: "1000:1000",
        StopSignal: "SIGQUIT",
        Labels: { a: "b" },
        ExposedPorts: { "80/tcp": {} },
      },
      platform: { os: "linux", architecture: "arm64", variant: "v8" },
      diffIds: [digest(1), digest(2)],
    });
  });

  test("no config object: {}", () => {
    expect(parseImageConfig(json(base), "img").config).toEqual({});
  });

  test.each([
    [{ ...base, config: { Cmd: "sh" } }, "config.Cmd is not a list of strings"],
    [{ ...base, config: { Labels: { a: 1 } } }, "config.Labels is not an object of strings"],
    [{ ...base, config: [] }, "config is not an object"],
    [{ ...base, rootfs: { diff_ids: ["x"] } }, "rootfs.diff_ids is not a list of sha256 digests"],
    [{ ...base, rootfs: undefined }, "rootfs.diff_ids"],
    [{ ...base, os: undefined }, "it has no os and architecture"],
  ])("refused: %#", (doc, why) => {
    expect(() => parseImageConfig(json(doc), "img")).toThrow(`the image config of img is not valid: ${why}`);
  });
});
