// Images, in one run: unpacking a small (~500 entries, Alpine-sized) and a large (≥200 MB,
// ≥20,000 entries) tarball with mycfs and with GNU tar; downloading from a local server
// with the digest checked, mycfs against curl + sha256sum; and what the copy-on-write
// overlay adds to a container's start. Archives are built here, in a temp dir removed after.
//   sudo bun bench/images.ts [ROUNDS]     (npm run bench:images builds dist/mycfs first)
// Targets (issue "Images"): unpack ≤ 1.2× GNU tar's wall time, peak RSS < 150 MB for the
// large archive; download ≥ 0.8× curl's throughput; overlay start ≤ 2 ms over --rootfs.
import { $ } from "bun";
import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { download } from "../src/images/download";
import { Tally } from "../src/images/tally";
import { imageRootfs, median, MYCFS, mycfsRun, need, privateState, table, time } from "./lib";

// A child mode: the download code of `mycfs pull`, with its digest, into nowhere.
if (process.argv[2] === "--download") {
  const [url, want] = process.argv.slice(3) as [string, string];
  const tally = new Tally(false);
  const signal = new AbortController().signal;
  const body = tally.pass(download(url, { timeout: 30_000, retries: 3, signal }).body, signal);
  for await (const _ of body);
  if (tally.hex("sha256") !== want) throw new Error("digest mismatch");
  process.exit(0);
}

const rounds = Number(process.argv[2] ?? 5);
if (!existsSync(MYCFS)) throw new Error("dist/mycfs is missing: run `npm run build` first");
await need({ hyperfine: "hyperfine", curl: "curl", tar: "tar", gzip: "gzip" });

/** Text-like file contents (compressing about 2:1, as binaries and text do), from one random blob. */
const words = Array.from({ length: 4096 }, () => Math.random().toString(36).slice(2, 10));
const blob = new TextEncoder().encode(Array.from({ length: 600_000 }, () => words[(Math.random() * words.length) | 0]).join(" "));
const slice = (size: number) => {
  const at = (Math.random() * (blob.byteLength - size)) | 0;
  return blob.subarray(at, at + size);
};

/** A tree of `dirs` directories of `files` files (every 10th a symlink), a few large. */
function makeTree(root: string, dirs: number, files: number, sizes: number[], large: number) {
  for (let d = 0; d < dirs; d++) {
    const dir = join(root, `usr/lib/pkg${d}`);
    mkdirSync(dir, { recursive: true });
    for (let f = 0; f < files; f++) {
      if (f % 10 === 9) symlinkSync(`f${f - 1}`, join(dir, `f${f}`));
      else writeFileSync(join(dir, `f${f}`), slice(f === 0 ? large : sizes[f % sizes.length]!));
    }
  }
}

/** Wall time and peak RSS of one command, from GNU time. */
async function measure(argv: string[]): Promise<{ ms: number; rssMB: number }> {
  const t0 = performance.now();
  const p = Bun.spawn(["/usr/bin/time", "-f", "%M", ...argv], { stdout: "ignore", stderr: "pipe" });
  const [code, err] = await Promise.all([p.exited, new Response(p.stderr).text()]);
  const ms = performance.now() - t0;
  if (code !== 0) throw new Error(`${argv.join(" ")} failed: ${err}`);
  return { ms, rssMB: Number(err.trim().split("\n").pop()) / 1024 };
}

const dir = mkdtempSync(join(tmpdir(), "mycfs-bench-images-"));
privateState(dir);
// Unpacking happens on a tmpfs: on this shared VM the disk's writeback (seconds, and
// varying) would otherwise hide both unpackers' own cost.
const work = join(dir, "work");
mkdirSync(work);
await $`mount -t tmpfs -o size=4g mycfs-bench-tmpfs ${work}`;
let server: ReturnType<typeof Bun.spawn> | undefined;
try {
  const archives: Record<string, { file: string; entries: number; bytes: number }> = {};
  for (const [name, dirs, files, sizes, large] of [
    ["small", 25, 20, [300, 1200, 2500, 6000], 200_000],
    ["large", 200, 110, [400, 1500, 4000, 9000, 20000], 700_000],
  ] as const) {
    const tree = join(dir, name);
    makeTree(tree, dirs, files, [...sizes], large);
    const file = join(dir, `${name}.tar.gz`);
    await $`tar -C ${tree} -cf - . | gzip -6 > ${file}`;
    const bytes = Number((await $`du -sb ${tree}`.text()).split("\t")[0]);
    archives[name] = { file, entries: Number((await $`tar -tzf ${file} | wc -l`.text()).trim()), bytes };
    rmSync(tree, { recursive: true });
  }

  const unpackRows: string[] = [];
  for (const [name, a] of Object.entries(archives)) {
    const runs: Record<string, { ms: number; rssMB: number }[]> = { "GNU tar -xzf": [], "mycfs import": [] };
    for (let i = 0; i < rounds; i++)
      for (const tool of Object.keys(runs)) {
        const dest = join(work, "dest");
        rmSync(dest, { recursive: true, force: true });
        mkdirSync(dest);
        const argv = tool === "mycfs import" ? [MYCFS, "import", "--root", dest, a.file, "bench"] : ["tar", "-xzf", a.file, "-C", dest];
        runs[tool]!.push(await measure(argv));
      }
    const tar = median(runs["GNU tar -xzf"]!.map((r) => r.ms));
    for (const [tool, rs] of Object.entries(runs)) {
      const ms = median(rs.map((r) => r.ms));
      unpackRows.push(
        `| ${name}: ${a.entries} entries, ${(a.bytes / 1e6).toFixed(0)} MB (${(Bun.file(a.file).size / 1e6).toFixed(1)} MB gzip) | ${tool} | ${ms.toFixed(0)} | ${(ms / tar).toFixed(2)}× | ${Math.max(...rs.map((r) => r.rssMB)).toFixed(0)} |`,
      );
    }
  }
  rmSync(join(work, "dest"), { recursive: true, force: true });

  // Download: a separate server process sends the large archive from the page cache.
  const large = archives.large!;
  const sha = (await $`sha256sum ${large.file}`.text()).split(" ")[0]!;
  server = Bun.spawn(
    [
      process.execPath,
      "-e",
      `const s = Bun.serve({ hostname: "127.0.0.1", port: 0, fetch: () => new Response(Bun.file(${JSON.stringify(large.file)})) }); console.log(s.port);`,
    ],
    { stdout: "pipe" },
  );
  const port = (await (server.stdout as ReadableStream<Uint8Array>).getReader().read()).value;
  const url = `http://127.0.0.1:${new TextDecoder().decode(port).trim()}/large.tar.gz`;
  const got = join(work, "got.tar.gz");
  const dl = await time(
    {
      "curl -o + sha256sum": ["sh", "-c", `curl -sSf -o ${got} ${url} && sha256sum ${got} >/dev/null`],
      "mycfs download + sha256": [process.execPath, import.meta.path, "--download", url, sha],
    },
    rounds,
  );
  const mbps = (xs: number[]) => (large.file ? Bun.file(large.file).size / 1e6 / (median(xs) / 1000) : 0);
  const curl = mbps(dl.get("curl -o + sha256sum")!);
  const ours = mbps(dl.get("mycfs download + sha256")!);
  const pull = await measure([MYCFS, "pull", "--root", join(work, "pulled"), "--sha256", sha, url]);

  // Start overhead of the overlay (container directory, record, overlay mount) over --rootfs.
  const store = join(work, "store");
  await $`${mycfsRun("--root", store, "busybox", "true")}`;
  const starts = await time(
    {
      "mycfs run --rootfs": mycfsRun("--rootfs", await imageRootfs(store), "true"),
      "mycfs run --rm busybox (overlay)": mycfsRun("--root", store, "busybox", "true"),
    },
    Math.max(rounds * 10, 30),
  );

  const date = new Date().toISOString().slice(0, 10);
  console.log(`\nUnpacking (${date}, ${(await $`uname -r`.text()).trim()}, onto a tmpfs), median of ${rounds}:\n`);
  console.log(["| archive | unpacker | median ms | ÷ GNU tar | peak RSS MB |", "|---|---|---:|---:|---:|", ...unpackRows].join("\n"));
  console.log(
    `\nDownload of the large archive (${(Bun.file(large.file).size / 1e6).toFixed(0)} MB) from a local server, digest checked, median of ${rounds}:\n`,
  );
  console.log(
    [
      "| client | median ms | MB/s | ÷ curl |",
      "|---|---:|---:|---:|",
      `| curl -o + sha256sum | ${median(dl.get("curl -o + sha256sum")!).toFixed(0)} | ${curl.toFixed(0)} | |`,
      `| mycfs download + sha256 | ${median(dl.get("mycfs download + sha256")!).toFixed(0)} | ${ours.toFixed(0)} | ${(ours / curl).toFixed(2)}× |`,
      `| mycfs pull (download, verify, unpack: one pass) | ${pull.ms.toFixed(0)} | ${(Bun.file(large.file).size / 1e6 / (pull.ms / 1000)).toFixed(0)} | peak RSS ${pull.rssMB.toFixed(0)} MB |`,
    ].join("\n"),
  );
  console.log(`\nContainer start, \`true\`, ${Math.max(rounds * 10, 30)} runs each:\n`);
  console.log(table(starts, "mycfs run --rm busybox (overlay)"));
  const overhead = median(starts.get("mycfs run --rm busybox (overlay)")!) - median(starts.get("mycfs run --rootfs")!);
  console.log(`\noverlay start overhead: ${overhead.toFixed(2)} ms (target ≤ 2 ms)`);
} finally {
  server?.kill();
  await $`umount ${work}`.nothrow();
  rmSync(dir, { recursive: true, force: true });
}
