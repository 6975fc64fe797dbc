// Pulling from a local Alpine-like mirror: digests checked while streaming, failures of
// every kind (404, 500, a dropped connection, a stalled one, a wrong digest, Ctrl-C, a
// full disk) each a clear error with nothing left in the store, concurrent pulls, URLs
// pinned and not, proxies, and import from a file or stdin in every compression.
import { afterAll, describe, expect, test } from "bun:test";
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { packTar } from "modern-tar";
import { join } from "node:path";
import { alpineMirror, dropper, miniRootfs, serve, sha, tarOf } from "./cdn";
import { MYCFS, mycfs, tempDir, testStore } from "./helpers";

const store = testStore("pull");
const rootfs = miniRootfs("3.99.1");
const archive = tarOf(rootfs.tree, ["gzip", "-n"]);
afterAll(() => {
  store.cleanup();
  rmSync(rootfs.dir, { recursive: true, force: true });
});

/** What a store holds: image records, root file systems, staging leftovers. */
function contents(root: string) {
  const ls = (d: string) => (existsSync(join(root, d)) ? readdirSync(join(root, d)) : []);
  return { images: ls("images").flatMap((n) => ls(`images/${n}`).map((t) => `${n}/${t}`)), layers: ls("layers"), tmp: ls("tmp") };
}
const empty = { images: [], layers: [], tmp: [] };
const fresh = (tag: string) => join(store.dir, `${tag}-${Math.random().toString(36).slice(2)}`);

/** A response that sends the first half of `data`, then nothing more. */
function stall(data: Uint8Array): Response {
  const body = new ReadableStream<Uint8Array>({ start: (c) => c.enqueue(data.subarray(0, data.byteLength >> 1)) });
  return new Response(body, { headers: { "content-length": String(data.byteLength) } });
}

// the file redirects to a server that drops the connection half-way
const drops = dropper(archive);
afterAll(drops.stop);
const dropped = () => Response.redirect(drops.url, 302);

describe("pull from an Alpine mirror", () => {
  test("pulls alpine:3.99, verifies it, lists it, runs it", async () => {
    const cdn = alpineMirror("3.99.1", archive);
    try {
      const root = fresh("ok");
      const r = await mycfs(["pull", "--root", root, "--mirror", cdn.mirror, "alpine:3.99"]);
      expect(r.stderr).toContain(`pulling alpine:3.99 3.99.1 from ${cdn.fileUrl}`);
      expect(r).toMatchObject({ code: 0, stdout: `sha256:${sha(archive)}\n` });
      const list = await mycfs(["images", "--root", root]);
      expect(list.stdout).toMatch(new RegExp(`alpine:3.99 +3.99.1 +- +1 +[\\d.]+ MB +sha256:${sha(archive).slice(0, 12)}`));
      const run = await mycfs(["run", "--rm", "--root", root, "alpine:3.99", "cat", "/etc/os-release"]);
      expect(run).toMatchObject({ code: 0, stdout: expect.stringContaining("VERSION_ID=3.99.1") });
      // pulled again: the index says the same digest, so nothing is downloaded
      const again = await mycfs(["pull", "--root", root, "--mirror", cdn.mirror, "alpine:3.99"]);
      expect(again.stderr).toContain("alpine:3.99 is up to date (3.99.1)");
      expect(cdn.hits.filter((h) => h.endsWith(".tar.gz"))).toHaveLength(1);
      expect(contents(root)).toMatchObject({ images: ["alpine/3.99.json"], tmp: [] });
    } finally {
      cdn.stop();
    }
  });

  test("mycfs run pulls a missing image (MYCFS_MIRROR), unless --pull=never", async () => {
    const cdn = alpineMirror("3.99.1", archive);
    try {
      const root = fresh("run");
      const never = await mycfs(["run", "--pull=never", "--root", root, "alpine:3.99", "true"]);
      expect(never).toMatchObject({ code: 125, stderr: expect.stringContaining("--pull=never") });
      const r = await mycfs(["run", "--rm", "--root", root, "alpine:3.99", "cat", "/etc/os-release"], { env: { MYCFS_MIRROR: cdn.mirror } });
      expect(r).toMatchObject({ code: 0, stdout: expect.stringContaining("3.99.1") });
    } finally {
      cdn.stop();
    }
  });

  const failures: [string, () => ReturnType<typeof alpineMirror>, RegExp][] = [
    [
      "a wrong digest in the index",
      () => alpineMirror("3.99.1", archive, { yaml: undefined, file: () => new Response(tarOf(rootfs.tree, ["gzip", "-1"])) }),
      /digest mismatch: .* has sha256 [0-9a-f]{64}, expected [0-9a-f]{64}; nothing was stored/,
    ],
    [
      "a 404",
      () => alpineMirror("3.99.1", archive, { file: () => new Response("gone", { status: 404 }) }),
      /download of http:\/\/127\.0\.0\.1:\d+\/.*\.tar\.gz failed: HTTP 404 Not Found \(1 attempt\)/,
    ],
    [
      "a 500, every time",
      () => alpineMirror("3.99.1", archive, { file: () => new Response("oops", { status: 500 }) }),
      /download of .*\.tar\.gz failed: HTTP 500 Internal Server Error \(4 attempts\)/,
    ],
    [
      "a connection dropped half-way, every time",
      () => alpineMirror("3.99.1", archive, { file: dropped }),
      /download of .*\.tar\.gz failed: .* \(4 attempts\)/,
    ],
    [
      "a server that stalls half-way",
      () => alpineMirror("3.99.1", archive, { file: () => stall(archive) }),
      /download of .*\.tar\.gz failed: no data for 0\.3 s \(4 attempts\)/,
    ],
  ];
  for (const [what, start, message] of failures)
    test(`${what}: a clear error, and the store stays clean`, async () => {
      const cdn = start();
      try {
        const root = fresh("fail");
        const r = await mycfs(["pull", "--root", root, "--mirror", cdn.mirror, "--timeout", "0.3", "alpine:3.99"]);
        expect(r.code).toBe(125);
        expect(r.stderr).toMatch(message);
        expect(contents(root)).toEqual(empty);
      } finally {
        cdn.stop();
      }
    });

  test("a connection dropped once resumes where it stopped (Range)", async () => {
    let calls = 0;
    const ranges: (string | null)[] = [];
    const cdn = alpineMirror("3.99.1", archive, {
      file: (req) => {
        ranges.push(req.headers.get("range"));
        if (calls++ === 0) return dropped();
        const from = Number(req.headers.get("range")!.match(/bytes=(\d+)-/)![1]);
        return new Response(archive.subarray(from), {
          status: 206,
          headers: { "content-range": `bytes ${from}-${archive.byteLength - 1}/${archive.byteLength}` },
        });
      },
    });
    try {
      const root = fresh("resume");
      const r = await mycfs(["pull", "--root", root, "--mirror", cdn.mirror, "alpine:3.99"]);
      expect(r).toMatchObject({ code: 0, stdout: `sha256:${sha(archive)}\n` });
      expect(r.stderr).toMatch(/retrying in 0\.25 s \(1\/3\)/);
      // the second request asks for the rest, from the byte the first one got to
      expect(ranges[0]).toBeNull();
      const from = Number(ranges[1]?.match(/^bytes=(\d+)-$/)?.[1]);
      expect(from).toBeGreaterThan(0);
      expect(from).toBeLessThanOrEqual(archive.byteLength >> 1);
    } finally {
      cdn.stop();
    }
  });

  test("two pulls of the same image at once end with one good image", async () => {
    // a slow server, so that the two overlap
    const cdn = alpineMirror("3.99.1", archive, {
      file: () =>
        new Response(
          new ReadableStream({
            async pull(c) {
              for (let i = 0; i < archive.byteLength; i += 65536) {
                c.enqueue(archive.subarray(i, i + 65536));
                await Bun.sleep(5);
              }
              c.close();
            },
          }),
          { headers: { "content-length": String(archive.byteLength) } },
        ),
    });
    try {
      const root = fresh("twice");
      const [a, b] = await Promise.all([0, 1].map(() => mycfs(["pull", "--root", root, "--mirror", cdn.mirror, "alpine:3.99"])));
      expect([a!.code, b!.code, a!.stderr + b!.stderr]).toEqual([0, 0, expect.any(String)]);
      expect(a!.stderr + b!.stderr).toContain("waiting for another mycfs that is pulling alpine:3.99");
      expect(contents(root)).toEqual({ images: ["alpine/3.99.json"], layers: [sha(archive)], tmp: [] });
      expect(cdn.hits.filter((h) => h.endsWith(".tar.gz"))).toHaveLength(1);
    } finally {
      cdn.stop();
    }
  });

  test("Ctrl-C during a download: exit 130 and nothing left", async () => {
    const cdn = alpineMirror("3.99.1", archive, { file: () => stall(archive) });
    try {
      const root = fresh("sigint");
      const p = Bun.spawn([MYCFS, "pull", "--root", root, "--mirror", cdn.mirror, "alpine:3.99"], { stderr: "pipe" });
      while (!cdn.hits.some((h) => h.endsWith(".tar.gz"))) await Bun.sleep(10);
      await Bun.sleep(100);
      p.kill("SIGINT");
      expect(await p.exited).toBe(130);
      expect(await new Response(p.stderr).text()).toContain("interrupted by SIGINT; nothing was stored");
      expect(contents(root)).toEqual(empty);
    } finally {
      cdn.stop();
    }
  });

  test("Ctrl-C during the import of a local gzip file (inflated by a thread that reads it): 130, nothing left", async () => {
    // on a tmpfs, so that thousands of entries come and go quickly; entries enough that
    // the unpacking is still under way when the signal comes
    const root = mkdtempSync("/dev/shm/mycfs-test-sigint-");
    const file = `${root}.tar.gz`;
    const entries = Array.from({ length: 4000 }, (_, i) => {
      const body = crypto.getRandomValues(new Uint8Array(3000));
      return { header: { name: `f${i}`, type: "file" as const, size: body.byteLength }, body };
    });
    writeFileSync(file, Bun.gzipSync(await packTar(entries), { level: 1 }));
    try {
      const p = Bun.spawn([MYCFS, "import", "--root", root, file, "big"], { stderr: "pipe" });
      while (!(existsSync(join(root, "tmp")) && readdirSync(join(root, "tmp")).length)) await Bun.sleep(5);
      p.kill("SIGINT");
      expect(await p.exited).toBe(130);
      expect(await new Response(p.stderr).text()).toContain("interrupted by SIGINT; nothing was stored");
      expect(contents(root)).toEqual(empty);
    } finally {
      rmSync(file, { force: true });
      rmSync(root, { recursive: true, force: true });
    }
  });

  test("a full disk: ENOSPC, and nothing left", async () => {
    const mnt = tempDir("full");
    const cdn = alpineMirror("3.99.1", archive);
    try {
      expect(Bun.spawnSync(["mount", "-t", "tmpfs", "-o", "size=512k", "mycfs-test-full", mnt]).exitCode).toBe(0);
      const r = await mycfs(["pull", "--root", join(mnt, "store"), "--mirror", cdn.mirror, "alpine:3.99"]);
      expect(r.code).toBe(125);
      expect(r.stderr).toMatch(/no space left on the store's file system; nothing was stored/);
      expect(contents(join(mnt, "store"))).toEqual(empty);
    } finally {
      cdn.stop();
      Bun.spawnSync(["umount", mnt]);
      rmSync(mnt, { recursive: true, force: true });
    }
  });

  test("proxy variables are honoured (HTTP_PROXY)", async () => {
    const cdn = alpineMirror("3.99.1", archive);
    const seen: string[] = [];
    // a forward proxy: requests come in absolute form for a host that does not resolve
    const proxy = serve({});
    const forward = Bun.serve({
      hostname: "127.0.0.1",
      port: 0,
      fetch(req) {
        seen.push(req.url);
        return fetch(req.url.replace("http://mirror.invalid", cdn.url), { headers: req.headers });
      },
    });
    proxy.stop();
    try {
      const root = fresh("proxy");
      const r = await mycfs(["pull", "--root", root, "--mirror", "http://mirror.invalid/alpine", "alpine:3.99"], {
        env: { HTTP_PROXY: `http://127.0.0.1:${forward.port}`, http_proxy: "", NO_PROXY: "" },
      });
      expect(r.code).toBe(0);
      expect(seen.map((u) => new URL(u).host)).toEqual(["mirror.invalid", "mirror.invalid"]);
    } finally {
      forward.stop(true);
      cdn.stop();
    }
  });
});

describe("pull a URL, import a file or stdin", () => {
  test("an unpinned URL prints its digest; a pinned one must match", async () => {
    const cdn = serve({ "/rootfs.tar.gz": archive });
    try {
      const root = fresh("url");
      const url = `${cdn.url}/rootfs.tar.gz`;
      const r = await mycfs(["pull", "--root", root, url]);
      expect(r).toMatchObject({ code: 0, stdout: `sha256:${sha(archive)}\n` });
      expect(r.stderr).toContain(`to pin this image next time: --sha256 ${sha(archive)}`);
      const wrong = await mycfs(["pull", "--root", root, "--sha256", "0".repeat(64), url]);
      expect(wrong).toMatchObject({ code: 125, stderr: expect.stringContaining("digest mismatch") });
      const pinned = await mycfs(["pull", "--root", root, "--sha256", sha(archive), url]);
      expect(pinned.stderr).toContain("is up to date");
      const run = await mycfs(["run", "--rm", "--root", root, url, "cat", "/etc/os-release"]);
      expect(run.stdout).toContain("3.99.1");
    } finally {
      cdn.stop();
    }
  });

  test("a local gzip file's digest, computed by the gunzip thread as it reads, at every length around SHA-256's blocks", async () => {
    const root = fresh("lengths");
    const gz = tarOf(rootfs.tree, ["gzip", "-n"]);
    try {
      // gzip ignores what follows its last member: zeros give the file every length class
      for (const extra of [0, 1, 55, 56, 63, 64, 65, 119, 120, 128].map((n) => (n - (gz.byteLength % 64) + 128) % 128)) {
        const data = new Uint8Array(gz.byteLength + extra);
        data.set(gz);
        const file = `${root}-${extra}.tar.gz`;
        writeFileSync(file, data);
        try {
          const r = await mycfs(["import", "--root", root, file, `len:${extra}`]);
          expect(r).toMatchObject({ code: 0, stdout: `sha256:${sha(data)}\n` });
        } finally {
          rmSync(file, { force: true });
        }
      }
    } finally {
      rmSync(root, { recursive: true, force: true });
    }
  });

  test("a pull streams: its memory stays bounded, whatever the archive's size", async () => {
    // 200 MB, one file of zeros, uncompressed: pulled faster than it is written out
    const big = new Uint8Array(200 << 20);
    const tar = await packTar([{ header: { name: "big", type: "file", size: big.byteLength }, body: big }]);
    const cdn = serve({ "/big.tar": tar });
    const root = mkdtempSync("/dev/shm/mycfs-test-bounded-");
    try {
      const p = Bun.spawn([MYCFS, "pull", "--root", root, "--sha256", sha(tar), `${cdn.url}/big.tar`], {
        stdout: "ignore",
        stderr: "ignore",
        env: process.env,
      });
      let peakMB = 0;
      while (p.exitCode === null) {
        const hwm = /^VmHWM:\s+(\d+) kB$/m.exec(
          await Bun.file(`/proc/${p.pid}/status`)
            .text()
            .catch(() => ""),
        );
        if (hwm) peakMB = Math.max(peakMB, Number(hwm[1]) / 1024);
        await Bun.sleep(20);
      }
      expect(await p.exited).toBe(0);
      expect(peakMB).toBeGreaterThan(0);
      expect(peakMB).toBeLessThan(150);
    } finally {
      cdn.stop();
      rmSync(root, { recursive: true, force: true });
    }
  });

  const compressions: [string, string[] | undefined][] = [
    ["tar", undefined],
    ["gzip", ["gzip"]],
    ["xz", ["xz"]],
    ["zstd", ["zstd"]],
  ];
  for (const [kind, filter] of compressions)
    test(`import a ${kind} archive from a file and from stdin (told by its magic bytes)`, async () => {
      const root = fresh(`import-${kind}`);
      const file = `${root}-archive.bin`;
      const data = tarOf(rootfs.tree, filter);
      writeFileSync(file, data);
      try {
        const a = await mycfs(["import", "--root", root, file, "mine"]);
        expect(a).toMatchObject({ code: 0, stdout: `sha256:${sha(data)}\n` });
        const p = Bun.spawnSync([MYCFS, "import", "--root", root, "-", "mine:stdin"], { stdin: data, stderr: "pipe" });
        expect(p.exitCode).toBe(0);
        const run = await mycfs(["run", "--rm", "--root", root, "mine:stdin", "cat", "/etc/os-release"]);
        expect(run.stdout).toContain("3.99.1");
        expect(contents(root)).toEqual({ images: ["mine/latest.json", "mine/stdin.json"], layers: [sha(data)], tmp: [] });
      } finally {
        rmSync(file, { force: true });
      }
    });
});
