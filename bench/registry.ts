// Registries, in one run: pulling and unpacking a 5-layer, ~200 MB image from a local
// registry (Debian's docker-registry on 127.0.0.1) with mycfs, with `skopeo copy` to an OCI
// layout followed by `umoci unpack`, and with `podman pull`; wall time and peak RSS of
// each, every store fresh. Then what four more layers add to a container's start: the same
// files as one layer and as five. Everything lives in a temp dir removed after.
//   sudo bun bench/registry.ts [ROUNDS]     (npm run bench:registry builds dist/mycfs first)
// Targets (issue "Images from OCI registries"): pull ≤ 0.7× the faster of the other two,
// peak RSS < 150 MB; start on 5 layers within 2 ms of 1 layer.
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { buildLayout, type Entry, pushLayout } from "../test/registry/layout";
import { withoutSystemCache } from "../test/helpers";
import { busyboxLayer } from "../test/registry/images";
import { startRegistry } from "../test/registry/registry";
import { median, MYCFS, mycfsRun, need, privateState, table, time } from "./lib";

const rounds = Number(process.argv[2] ?? 3);
if (!existsSync(MYCFS)) throw new Error("dist/mycfs is missing: run `npm run build` first");
await need({ hyperfine: "hyperfine", time: "time", skopeo: "skopeo", umoci: "umoci", podman: "podman", "docker-registry": "docker-registry" });

const dir = mkdtempSync(join(tmpdir(), "mycfs-bench-registry-"));
privateState(dir);
const registry = await startRegistry();
try {
  // Text-like contents (compressing about 2:1, as binaries and text do), 40 MB a layer in
  // files of 8 kB to 2 MB, from one random blob.
  const words = Array.from({ length: 4096 }, () => Math.random().toString(36).slice(2, 10));
  const blob = new TextEncoder().encode(Array.from({ length: 400_000 }, () => words[(Math.random() * words.length) | 0]).join(" "));
  const files = (layer: number): Entry[] => {
    const out: Entry[] = [{ dir: `l${layer}` }];
    for (let n = 0, total = 0; total < 40e6; n++) {
      const size = n % 20 === 0 ? 2e6 : 8192 * (1 + (n % 16));
      const at = (Math.random() * (blob.byteLength - size)) | 0;
      out.push({ file: `l${layer}/f${n}`, content: blob.subarray(at, at + size) });
      total += size;
    }
    return out;
  };
  const layers = [0, 1, 2, 3, 4].map(files);
  const config = { Cmd: ["/bin/sh"] };
  // busybox in the lowest layer, so that the containers can start
  const base = await busyboxLayer();
  const built = await buildLayout(join(dir, "five"), { layers: layers.map((entries, i) => ({ entries: i ? entries : [...base, ...entries] })), config });
  await buildLayout(join(dir, "one"), { layers: [{ entries: [...base, ...layers.flat()] }], config });
  const five = `${registry.host}/bench/five:1`;
  const one = `${registry.host}/bench/one:1`;
  await pushLayout(join(dir, "five"), five);
  await pushLayout(join(dir, "one"), one);

  const fresh = (name: string) => {
    rmSync(join(dir, name), { recursive: true, force: true });
    mkdirSync(join(dir, name));
    return join(dir, name);
  };
  const tools: Record<string, () => string[][]> = {
    "mycfs pull": () => [[MYCFS, "pull", "--root", fresh("mycfs"), five]],
    "skopeo copy + umoci unpack": () => {
      const out = fresh("oci");
      return [
        withoutSystemCache(["skopeo", "copy", "--quiet", "--src-tls-verify=false", `docker://${five}`, `oci:${out}/layout:1`]),
        ["umoci", "unpack", "--image", `${out}/layout:1`, `${out}/bundle`],
      ];
    },
    "podman pull": () => [withoutSystemCache([...podman(fresh("podman")), "pull", "--quiet", "--tls-verify=false", five])],
  };
  /** podman with storage, state, locks and network configuration of its own in `out`: none
   * of the host's (/run/containers, /var/lib/containers) is made or used (run it
   * withoutSystemCache, as skopeo). */
  function podman(out: string): string[] {
    mkdirSync(`${out}/tmp`, { recursive: true });
    writeFileSync(
      `${out}/containers.conf`,
      `[engine]\nlock_type = "file"\nevents_logger = "none"\nimage_copy_tmp_dir = "${out}/tmp"\n[network]\nnetwork_backend = "cni"\nnetwork_config_dir = "${out}/networks"\n`,
    );
    process.env.CONTAINERS_CONF = `${out}/containers.conf`;
    return ["podman", "--root", `${out}/root`, "--runroot", `${out}/run`, "--tmpdir", `${out}/tmp`, "--storage-driver", "overlay"];
  }
  const walls = new Map(Object.keys(tools).map((k) => [k, [] as number[]]));
  const rss = new Map(Object.keys(tools).map((k) => [k, 0]));
  for (let r = 0; r < rounds; r++)
    for (const [name, steps] of Object.entries(tools)) {
      let ms = 0;
      for (const argv of steps()) {
        const t0 = performance.now();
        // GNU time's %M: the peak RSS of the command, in kB, as the last line on stderr
        // (env given: Bun's spawn would pass the environment as it was at start)
        const p = Bun.spawn(["time", "-f", "%M", ...argv], { stdout: "ignore", stderr: "pipe", env: process.env });
        const [err, code] = await Promise.all([new Response(p.stderr).text(), p.exited]);
        if (code !== 0) throw new Error(`${argv.join(" ")}: ${err}`);
        ms += performance.now() - t0;
        rss.set(name, Math.max(rss.get(name)!, Number(err.trim().split("\n").at(-1)) / 1024));
      }
      walls.get(name)!.push(ms);
    }
  // podman's overlay layers may be mounts in its own root: reset before removing
  Bun.spawnSync(withoutSystemCache([...podman(join(dir, "podman")), "system", "reset", "--force"]), { env: process.env });
  for (const name of ["podman", "oci", "mycfs"]) fresh(name);
  const others = Math.min(median(walls.get("skopeo copy + umoci unpack")!), median(walls.get("podman pull")!));
  const compressed = built.images[0]!.layers.reduce((n, l) => n + l.size, 0) / 1e6;
  console.log(`## Pull and unpack: ${five}, 5 layers of 40 MB (${compressed.toFixed(0)} MB as gzip), ${rounds} rounds\n`);
  console.log(table(walls, "mycfs pull"));
  console.log(`\npeak RSS (MB): ${[...rss].map(([k, v]) => `${k} ${v.toFixed(0)}`).join(", ")}`);
  console.log(
    `mycfs ÷ the faster of the others: ${(median(walls.get("mycfs pull")!) / others).toFixed(2)}× (target ≤ 0.7×); mycfs peak RSS ${rss.get("mycfs pull")!.toFixed(0)} MB (target < 150)`,
  );

  const store = join(dir, "starts");
  for (const ref of [five, one]) {
    const p = Bun.spawnSync([MYCFS, "pull", "--root", store, ref], { stderr: "pipe" });
    if (p.exitCode !== 0) throw new Error(`pull ${ref}: ${p.stderr}`);
  }
  const starts = await time({ "1 layer": mycfsRun("--root", store, one, "/bin/true"), "5 layers": mycfsRun("--root", store, five, "/bin/true") }, 30);
  const gap = median(starts.get("5 layers")!) - median(starts.get("1 layer")!);
  console.log(`\n## Container start, the same files as 1 layer and as 5\n`);
  console.log(table(starts, "5 layers"));
  console.log(`\n5 layers − 1 layer: ${gap.toFixed(2)} ms (target within 2 ms)`);
} finally {
  await registry.stop();
  rmSync(dir, { recursive: true, force: true });
}
