// Shared by the benchmarks: tools from Debian's packages, a private mount namespace with
// cgroup2 on /sys/fs/cgroup (crun 1.8 refuses the host's hybrid mode), timing with hyperfine, and tables.
import { $ } from "bun";
import { parseRef } from "../src/images/refs";
import { Store } from "../src/images/store";

export const MYCFS = new URL("../dist/mycfs", import.meta.url).pathname;

/** `mycfs run --rm ARGS`: a benchmark keeps no container (docker's default would), and
 * makes no bridge (runc's and crun's bundles have no network either; bench/network.ts
 * measures the bridge). */
export const mycfsRun = (...args: string[]) => [MYCFS, "run", "--rm", "--network", "none", ...args];

/** Container records of the benchmark's own, in its temporary directory: never /run/mycfs. */
export function privateState(dir: string) {
  process.env.MYCFS_STATE = `${dir}/state`;
}

/** Installs Debian packages that provide missing commands. */
export async function need(commands: Record<string, string>) {
  const missing = Object.entries(commands)
    .filter(([cmd]) => !Bun.which(cmd))
    .map(([, pkg]) => pkg);
  if (missing.length === 0) return;
  console.error(`installing ${missing.join(" ")}`);
  await $`apt-get update -qq`.quiet();
  await $`apt-get install -y -qq ${missing}`.quiet();
}

/** Re-runs this script in a private mount namespace, with cgroup2 on /sys/fs/cgroup there
 * only; the host's mounts are never touched. Returns true in the re-run. */
export async function inPrivateMountNamespace(): Promise<boolean> {
  if (process.env.MYCFS_BENCH_NS === "1") {
    await $`mount -t cgroup2 none /sys/fs/cgroup`;
    return true;
  }
  const p = Bun.spawn(["unshare", "-m", "--propagation", "private", process.execPath, ...process.argv.slice(1)], {
    env: { ...process.env, MYCFS_BENCH_NS: "1" },
    stdio: ["inherit", "inherit", "inherit"],
  });
  process.exitCode = await p.exited;
  return false;
}

/** A cgroup directory for the benchmark below this process's own in the cgroup2 tree
 * (inPrivateMountNamespace mounts it on /sys/fs/cgroup), never elsewhere in the host's. */
export async function benchCgroup(): Promise<string> {
  const own = (await Bun.file("/proc/self/cgroup").text()).match(/^0::(.*)$/m)?.[1] ?? "/";
  return `/sys/fs/cgroup${own === "/" ? "" : own}/mycfs-bench-${process.pid}`;
}

/** Times each command with hyperfine (no shell, warm-up runs first), the commands
 * interleaved; ms per run. */
export async function time(commands: Record<string, string[]>, runs: number): Promise<Map<string, number[]>> {
  const json = `${process.env.TMPDIR ?? "/tmp"}/mycfs-bench-${process.pid}.json`;
  const quoted = Object.values(commands).map((argv) => argv.map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(" "));
  const names = Object.keys(commands);
  const times = new Map(names.map((n) => [n, [] as number[]]));
  // In batches of BATCH runs, every command in turn: on a shared host the speed of the
  // machine drifts over a minute, and all of one command's runs, then all of the next's,
  // would put the drift into their ratio.
  for (let done = 0, first = true; done < runs; done += BATCH, first = false) {
    const n = Math.min(BATCH, runs - done);
    await $`hyperfine -N --style none --warmup ${first ? 3 : 1} --runs ${n} --export-json ${json} ${quoted}`.quiet();
    const out = (await Bun.file(json).json()) as { results: { times: number[] }[] };
    for (const [i, r] of out.results.entries()) times.get(names[i]!)!.push(...r.times.map((t) => t * 1000));
  }
  await $`rm -f ${json}`;
  return times;
}

const BATCH = 5;

export const median = (xs: number[]) => quantile(xs, 0.5);
export function quantile(xs: number[], q: number) {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor(q * s.length))]!;
}

/** A markdown table of medians and p90s, with the ratio of `subject` to every other row. */
export function table(times: Map<string, number[]>, subject: string): string {
  const m = median(times.get(subject)!);
  const rows = [...times].map(([name, xs]) => {
    const med = median(xs);
    const ratio = name === subject ? "" : `${(m / med).toFixed(2)}×`;
    return `| ${name} | ${med.toFixed(2)} | ${quantile(xs, 0.9).toFixed(2)} | ${ratio} |`;
  });
  return [`| command | median ms | p90 ms | ${subject} ÷ this |`, "|---|---:|---:|---:|", ...rows].join("\n");
}

/** The root file system of a one-layer image in a store, found as mycfs finds it. */
export async function imageRootfs(root: string, image = "busybox:latest"): Promise<string> {
  const store = new Store(root);
  return store.layerDirs(await Bun.file(store.imageFile(parseRef(image))).json())[0]!;
}

/** The parts of `runc spec`'s config.json that the benchmarks change, each as JSON. */
export interface RuncSpec {
  root: { path: string; readonly: boolean };
  process: Record<string, unknown>;
  linux: Record<string, unknown>;
}

/** The embedded busybox image, unpacked by mycfs itself into a store in `dir`, and an OCI
 * bundle on it for runc and crun (`runc spec`: not a terminal, `true`, no writes), after
 * `configure` has had its say. Returns the root file system's path. */
export async function busyboxBundle(dir: string, configure: (spec: RuncSpec) => void): Promise<string> {
  const store = `${dir}/store`;
  await $`${mycfsRun("--root", store, "busybox", "true")}`;
  const rootfs = await imageRootfs(store);
  await $`runc spec`.cwd(dir);
  const spec = (await Bun.file(`${dir}/config.json`).json()) as RuncSpec;
  spec.root = { path: rootfs, readonly: true };
  spec.process.terminal = false;
  spec.process.args = ["true"];
  configure(spec);
  await Bun.write(`${dir}/config.json`, JSON.stringify(spec));
  return rootfs;
}
