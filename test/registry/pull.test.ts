// Pulling through src/registry from a real registry (distribution 2.8) over plain http on
// 127.0.0.1, anonymously: manifests by tag and digest, indexes and platforms, docker's
// media types, schema 1 refused, clear errors for what is not there; and, through proxies
// of the tests' own in front of it, what a hostile or struggling registry does: a wrong
// blob, a redirect to another host, 5xx, a dropped and a stalled transfer, 429.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { rmSync } from "node:fs";
import { Registry } from "../../src/registry/client";
import { tempDir } from "../helpers";
import { failure, pull, sampleImage, setEnv } from "./images";
import { buildLayout, type Layout, pushLayout, sha256 } from "./layout";
import { startRegistry, type TestRegistry } from "./registry";
import { dropper } from "../cdn";
import { errors, proxy } from "./servers";

let registry: TestRegistry;
const dir = tempDir("layouts");
const layouts: Record<string, Layout> = {};
const amd64 = { os: "linux", architecture: "amd64" };
const arm64 = { os: "linux", architecture: "arm64", variant: "v8" };

// none of the host's credentials: anonymous means anonymous
const restoreEnv = setEnv({ MYCFS_AUTH_FILE: `${dir}/auth.json`, DOCKER_CONFIG: dir });

beforeAll(async () => {
  registry = await startRegistry({ schema1: true });
  const push = async (name: string, spec: Parameters<typeof buildLayout>[1], format?: "v2s2" | "v2s1") => {
    layouts[name] = await buildLayout(`${dir}/${name}`, spec);
    await pushLayout(`${dir}/${name}`, `${registry.host}/test/${name}:1`, { format });
  };
  await push("app", sampleImage("app"));
  await push("multi", { index: [sampleImage("amd", amd64), sampleImage("arm", arm64)] });
  await push("docker", { layers: [{ entries: [{ file: "a", content: "docker" }] }], config: { Cmd: ["sh"] } }, "v2s2");
  await push("old", { layers: [{ entries: [{ file: "a", content: "old" }] }] }, "v2s1");
  // 4 MB stored as it is: large enough to be cut off half-way
  const noise = new Uint8Array(4 << 20).map((_, i) => Math.imul(i, 2654435761) >>> 24);
  await push("big", { layers: [{ entries: [{ file: "noise", content: noise }], compression: "none" }] });
});
afterAll(async () => {
  restoreEnv();
  await registry?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe("a plain-http registry on 127.0.0.1", () => {
  test("pulls an image anonymously: its manifest, config and layers, verified", async () => {
    const built = layouts.app!.images[0]!;
    const got = await pull(`${registry.host}/test/app:1`);
    expect(got.digest).toBe(built.digest);
    expect(got.manifestDigest).toBe(built.digest);
    expect(got.config).toEqual(sampleImage("app").config!);
    expect(got.platform).toEqual(amd64);
    expect(got.diffIds).toEqual(built.layers.map((l) => l.diffId));
    expect(got.manifest.layers.map((l) => [l.digest, l.size, l.compression])).toEqual([
      [built.layers[0]!.digest, built.layers[0]!.size, "gzip"],
      [built.layers[1]!.digest, built.layers[1]!.size, "zstd"],
    ]);
    expect(got.layers.map((b) => sha256(b))).toEqual(built.layers.map((l) => l.digest));
    expect(sha256(got.configBytes)).toBe(built.config.digest);
  });

  test("by digest, the manifest checked against it", async () => {
    const built = layouts.app!.images[0]!;
    const got = await pull(`${registry.host}/test/app@${built.digest}`);
    expect(got.manifestDigest).toBe(built.digest);
    const m = await new Registry({ registry: registry.host, repository: "test/app" }).manifest(built.digest);
    expect(m).toEqual({ bytes: built.manifest, mediaType: "application/vnd.oci.image.manifest.v1+json", digest: built.digest });
  });

  test("an index: amd64 and arm64 each get their own image", async () => {
    const [amd, arm] = layouts.multi!.images;
    const a = await pull(`${registry.host}/test/multi:1`, { platform: amd64 });
    expect([a.digest, a.manifestDigest, a.config.Labels]).toEqual([layouts.multi!.digest, amd!.digest, { tag: "amd" }]);
    // aarch64 without a variant takes the arm64/v8 entry
    const b = await pull(`${registry.host}/test/multi:1`, { platform: { os: "linux", architecture: "aarch64" } });
    expect([b.digest, b.manifestDigest, b.config.Labels, b.platform]).toEqual([layouts.multi!.digest, arm!.digest, { tag: "arm" }, arm64]);
    expect(b.layers.map((x) => sha256(x))).toEqual(arm!.layers.map((l) => l.digest));
    expect(await failure(pull(`${registry.host}/test/multi:1`, { platform: { os: "linux", architecture: "arm", variant: "v7" } }))).toBe(
      `${registry.host}/test/multi:1 has no image for linux/arm/v7: it has linux/amd64, linux/arm64/v8; choose one with --platform`,
    );
  });

  test("a single image for another platform than --platform's is refused", async () => {
    expect(await failure(pull(`${registry.host}/test/app:1`, { platform: arm64 }))).toBe(
      `${registry.host}/test/app:1 is an image for linux/amd64, not linux/arm64`,
    );
  });

  test("docker's media types (schema 2)", async () => {
    const r = new Registry({ registry: registry.host, repository: "test/docker" });
    expect((await r.manifest("1")).mediaType).toBe("application/vnd.docker.distribution.manifest.v2+json");
    const got = await pull(`${registry.host}/test/docker:1`);
    expect(got.manifest.layers.map((l) => [l.mediaType, l.compression])).toEqual([["application/vnd.docker.image.rootfs.diff.tar.gzip", "gzip"]]);
    expect(got.config).toEqual({ Cmd: ["sh"] });
  });

  test("schema 1 is refused, with the reason", async () => {
    expect(await failure(pull(`${registry.host}/test/old:1`))).toStartWith(`${registry.host}/test/old:1 has a schema 1 manifest`);
  });

  test("what is not there: one line each", async () => {
    const h = registry.host;
    expect(await failure(pull(`${h}/test/nothing:1`))).toBe(`manifest of ${h}/test/nothing:1 not found: MANIFEST_UNKNOWN: manifest unknown`);
    expect(await failure(pull(`${h}/test/app:2`))).toBe(`manifest of ${h}/test/app:2 not found: MANIFEST_UNKNOWN: manifest unknown`);
    const missing = `sha256:${"0".repeat(64)}`;
    const blob = new Registry({ registry: h, repository: "test/app" }).blob({ digest: missing, size: 1 });
    expect(await failure(new Response(blob.body).arrayBuffer())).toBe(`blob ${missing} of ${h}/test/app not found: BLOB_UNKNOWN: blob unknown to registry`);
  });
});

describe("a hostile or struggling registry", () => {
  const layer = () => layouts.app!.images[0]!.layers[0]!;
  const blobPath = () => `/v2/test/app/blobs/${layer().digest}`;
  const bytes = async () => new Uint8Array(await (await fetch(`${registry.url}${blobPath()}`)).arrayBuffer());

  test("a wrong blob: the stream errors at its end, never ends as complete", async () => {
    const good = await bytes();
    const bad = good.slice();
    bad[bad.byteLength - 1]! ^= 1;
    const p = proxy(registry.url, (_, url) => (url.pathname === blobPath() ? new Response(bad) : undefined));
    try {
      const reader = new Registry({ registry: p.host, repository: "test/app" }).blob(layer()).body.getReader();
      let got = 0;
      const end = await (async () => {
        for (;;) {
          const { done, value } = await reader.read();
          if (done) return "done";
          got += value.byteLength;
        }
      })().catch((e: Error) => e.message);
      expect(end).toBe(`digest mismatch: blob ${layer().digest} of ${p.host}/test/app has ${sha256(bad)}, expected ${layer().digest}`);
      expect(got).toBe(good.byteLength);
    } finally {
      p.stop();
    }
  });

  test("a blob larger than its descriptor is cut off", async () => {
    const more = new Uint8Array(layer().size + 4096);
    const p = proxy(registry.url, (_, url) => (url.pathname === blobPath() ? new Response(more) : undefined));
    try {
      const blob = new Registry({ registry: p.host, repository: "test/app" }).blob(layer());
      expect(await failure(new Response(blob.body).arrayBuffer())).toBe(
        `blob ${layer().digest} of ${p.host}/test/app is larger than the ${layer().size} bytes its manifest gives`,
      );
    } finally {
      p.stop();
    }
  });

  test("a blob redirected to another host gets it without the registry's Authorization", async () => {
    const storage = proxy(registry.url);
    // the registry wants basic auth, and sends blobs to its storage elsewhere
    const front = proxy(registry.url, (req, url) => {
      if (req.headers.get("authorization") !== `Basic ${btoa("user:pw")}`)
        return new Response(null, { status: 401, headers: { "www-authenticate": 'Basic realm="r"' } });
      if (url.pathname.includes("/blobs/")) return Response.redirect(`${storage.url.replace("127.0.0.1", "localhost")}${url.pathname}?signed=1`, 307);
    });
    try {
      const got = await pull(`${front.host}/test/app:1`, { credentials: { username: "user", password: "pw" } });
      expect(got.layers.map((b) => sha256(b))).toEqual(layouts.app!.images[0]!.layers.map((l) => l.digest));
      expect(storage.seen.length).toBe(3); // the config and two layers
      expect(storage.seen.every((s) => s.authorization === null)).toBe(true);
      expect(front.seen.filter((s) => s.path.includes("/blobs/")).every((s) => s.authorization !== null)).toBe(true);
    } finally {
      front.stop();
      storage.stop();
    }
  });

  test("5xx is retried with backoff, then the pull succeeds", async () => {
    const p = proxy(registry.url, (_, url, n) => (url.pathname === blobPath() && n <= 2 ? errors(503, "UNAVAILABLE", "busy") : undefined));
    try {
      const got = await pull(`${p.host}/test/app:1`);
      expect(sha256(got.layers[0]!)).toBe(layer().digest);
      expect(p.seen.filter((s) => s.path === blobPath())).toHaveLength(3);
    } finally {
      p.stop();
    }
  });

  test("a dropped and a stalled transfer resume with Range", async () => {
    const big = layouts.big!.images[0]!.layers[0]!;
    const path = `/v2/test/big/blobs/${big.digest}`;
    const good = new Uint8Array(await (await fetch(`${registry.url}${path}`)).arrayBuffer());
    // the first attempt goes to a server that sends half and hangs up (a bare TCP server)
    const drops = dropper(good);
    // the second gets 100 bytes of what it asked for, then nothing
    const stalled = (range: string) => {
      const from = Number(range.match(/^bytes=(\d+)-$/)![1]);
      const body = new ReadableStream({ start: (c) => c.enqueue(good.subarray(from, from + 100)) });
      return new Response(body, { status: 206, headers: { "content-range": `bytes ${from}-${good.byteLength - 1}/${good.byteLength}` } });
    };
    const p = proxy(registry.url, (req, url, n) =>
      url.pathname !== path ? undefined : n === 1 ? Response.redirect(drops.url, 307) : n === 2 ? stalled(req.headers.get("range")!) : undefined,
    );
    try {
      const blob = new Registry({ registry: p.host, repository: "test/big" }, { timeout: 500 }).blob(big);
      expect(sha256(new Uint8Array(await new Response(blob.body).arrayBuffer()))).toBe(big.digest);
      // resumed from what arrived of the half before the reset, then 100 bytes on
      const ranges = p.seen.filter((s) => s.path === path).map((s) => s.range);
      const from = Number(ranges[1]?.match(/^bytes=(\d+)-$/)?.[1]);
      expect(from).toBeGreaterThan(0);
      expect(from).toBeLessThanOrEqual(good.byteLength >> 1);
      expect(ranges).toEqual([null, `bytes=${from}-`, `bytes=${from + 100}-`]);
    } finally {
      p.stop();
      drops.stop();
    }
  });

  test("429: the registry's message, and no retry", async () => {
    const p = proxy(registry.url, (_, url) =>
      url.pathname.includes("/manifests/") ? errors(429, "TOOMANYREQUESTS", "You have reached your pull rate limit.", { "retry-after": "60" }) : undefined,
    );
    try {
      expect(await failure(pull(`${p.host}/test/app:1`))).toBe(
        `${p.host} refused manifest of ${p.host}/test/app:1: too many requests (HTTP 429): TOOMANYREQUESTS: You have reached your pull rate limit.; it asks to retry after 60`,
      );
      expect(p.seen.filter((s) => s.path.includes("/manifests/"))).toHaveLength(1);
    } finally {
      p.stop();
    }
  });

  test("a manifest whose Docker-Content-Digest says otherwise is refused", async () => {
    const p = proxy(registry.url, async (req, url) => {
      if (!url.pathname.includes("/manifests/")) return undefined;
      const res = await fetch(`${registry.url}${url.pathname}`, { headers: { accept: req.headers.get("accept")! } });
      const headers = new Headers(res.headers);
      headers.set("docker-content-digest", `sha256:${"1".repeat(64)}`);
      return new Response(res.body, { headers });
    });
    try {
      expect(await failure(pull(`${p.host}/test/app:1`))).toBe(
        `digest mismatch: manifest of ${p.host}/test/app:1 has ${layouts.app!.digest}, expected sha256:${"1".repeat(64)}`,
      );
    } finally {
      p.stop();
    }
  });
});
