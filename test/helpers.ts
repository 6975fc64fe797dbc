// Running the real dist/mycfs as a user would, with a store of the test's own. Spawns
// pass process.env on: it carries the suite's own state directory (test/setup.ts).
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { parseRef } from "../src/images/refs";
import { Store } from "../src/images/store";

export const MYCFS = resolve("dist/mycfs");
export const PROBE = resolve("build/probe");

export interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/** The Bun part dist/mycfs (or a release file) carries after the front (csrc/front/): where
 * it is, and the name of its cached copy, from the trailer build.ts writes. */
export function bunPart(file = MYCFS): { offset: number; size: number; name: string } {
  const whole = readFileSync(file);
  const t = whole.subarray(whole.length - 56);
  if (t.subarray(0, 8).toString() !== "MYCFSRT1") throw new Error(`${file} has no front's trailer`);
  return { offset: Number(t.readBigUInt64LE(8)), size: Number(t.readBigUInt64LE(16)), name: `mycfs-${t.subarray(24, 32).toString("hex")}` };
}

export function tempDir(tag: string): string {
  return mkdtempSync(join(tmpdir(), `mycfs-test-${tag}-`));
}

/** An ordinary user for one test file, `mycfs-LETTER` + the pid, and a directory it can
 * reach with a copy of dist/mycfs it can execute: `create` makes both (and returns its
 * uid), `remove` takes both away. */
export function testUser(letter: string, tag: string) {
  const name = `mycfs-${letter}${process.pid}`;
  const dir = tempDir(tag);
  const bin = join(dir, "mycfs");
  return {
    name,
    dir,
    bin,
    home: `/home/${name}`,
    create(): number {
      const add = Bun.spawnSync(["useradd", "--create-home", "--shell", "/bin/sh", name], { stderr: "pipe" });
      if (add.exitCode !== 0) throw new Error(`useradd: ${add.stderr}`);
      chmodSync(dir, 0o755);
      copyFileSync(MYCFS, bin);
      chmodSync(bin, 0o755);
      return Number(Bun.spawnSync(["id", "-u", name]).stdout.toString());
    },
    remove() {
      Bun.spawnSync(["userdel", "--remove", name], { stderr: "ignore" });
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A private store for one test file; `cleanup` removes it and everything in it. */
export function testStore(tag: string) {
  const dir = tempDir(tag);
  return {
    dir,
    root: join(dir, "store"),
    cleanup: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** argv run by `sh -c script sh ARGV...` in a private mount namespace: what the script
 * mounts there leaves the host's mounts untouched. */
export const inMountNamespace = (script: string) => (argv: string[]) => ["unshare", "-m", "--propagation", "private", "sh", "-c", script, "sh", ...argv];

/** argv on a simulated pure cgroup v2 host: with cgroup2 mounted on /sys/fs/cgroup. */
export const onPureV2 = inMountNamespace('mount -t cgroup2 none /sys/fs/cgroup && exec "$@"');

/** argv with an empty /var/lib of its own: skopeo, run as root, keeps a blob cache in
 * /var/lib/containers/cache that would outlive the test. */
export const withoutSystemCache = inMountNamespace('mount -t tmpfs none /var/lib && exec "$@"');

/** `wrap`: what runs mycfs's argv (onPureV2, say). */
export async function mycfs(args: string[], opts: { stdin?: string; env?: Record<string, string>; wrap?: (argv: string[]) => string[] } = {}): Promise<Result> {
  return spawnResult((opts.wrap ?? ((a) => a))([MYCFS, ...args]), opts);
}

/** Runs argv to its end: its exit code and output. */
export async function spawnResult(argv: string[], opts: { stdin?: string; env?: Record<string, string> } = {}): Promise<Result> {
  const p = Bun.spawn(argv, {
    stdin: opts.stdin === undefined ? "ignore" : new TextEncoder().encode(opts.stdin),
    stdout: "pipe",
    stderr: "pipe",
    env: { ...process.env, ...opts.env },
  });
  const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  return { code, stdout, stderr };
}

/** The top layer of an image in a store (a tarball's only one), found as mycfs finds it. */
export function imageDir(root: string, image = "busybox:latest"): string {
  const store = new Store(root);
  return store.layerDirs(JSON.parse(readFileSync(store.imageFile(parseRef(image)), "utf8")))[0]!;
}

/** Runs the probe inside a container from the embedded image: `probe facts` as JSON. */
export async function probe(root: string, runArgs: string[] = [], probeArgs = ["facts"]) {
  const r = await mycfs(["run", "--rm", "--root", root, "-v", `${PROBE}:/probe:ro`, ...runArgs, "busybox", "/probe", ...probeArgs]);
  if (r.code !== 0) throw new Error(`probe failed (${r.code}): ${r.stderr}`);
  return JSON.parse(r.stdout);
}

/** Starts mycfs in the background and resolves once the container printed `marker`;
 * `env` adds to (or, undefined, takes from) the test's environment; `stdin: "pipe"` keeps
 * a pipe to mycfs's input open for the test to end. */
export async function startUntil(args: string[], marker = "ready", opts: { env?: Record<string, string | undefined>; stdin?: "pipe" } = {}) {
  const p = Bun.spawn([MYCFS, ...args], { stdin: opts.stdin ?? "ignore", stdout: "pipe", stderr: "pipe", env: { ...process.env, ...opts.env } });
  const reader = p.stdout.getReader();
  let out = "";
  while (!out.includes(marker)) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`container ended before printing ${marker}: ${out}${await new Response(p.stderr).text()}`);
    out += new TextDecoder().decode(value);
  }
  const rest = (async () => {
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return out;
      out += new TextDecoder().decode(value);
    }
  })();
  return { proc: p, output: () => rest, stderr: () => new Response(p.stderr).text() };
}

/** A shell command run at a pseudo-terminal of its own (script(1)), typed into and read. */
export function terminal(cmd: string) {
  const p = Bun.spawn(["script", "-qfec", cmd, "/dev/null"], { stdin: "pipe", stdout: "pipe", stderr: "pipe", env: process.env });
  const reader = p.stdout.getReader();
  let out = "";
  return {
    proc: p,
    output: () => out,
    async waitFor(text: string) {
      while (!out.includes(text)) {
        const { value, done } = await reader.read();
        if (done) throw new Error(`terminal closed before '${text}':\n${out}`);
        out += new TextDecoder().decode(value);
      }
    },
    type(s: string) {
      p.stdin.write(s);
      p.stdin.flush();
    },
    /** Ctrl-C during a `sleep 20` at a shell prompt; returns how long until the shell was back, in ms. */
    async interruptSleep() {
      const t0 = Date.now();
      this.type("sleep 20\n");
      await Bun.sleep(200);
      this.type("\x03");
      this.type("echo after-$?\n");
      await this.waitFor("after-130");
      return Date.now() - t0;
    },
    async close() {
      p.stdin.end();
      return p.exited;
    },
  };
}

/** Direct children of a process, from /proc. */
export function childrenOf(pid: number): number[] {
  return readdirSync(`/proc/${pid}/task`).flatMap((t) => readFileSync(`/proc/${pid}/task/${t}/children`, "utf8").split(" ").filter(Boolean).map(Number));
}

/** Alive and not a zombie (a zombie of a dead parent waits for the host's init to reap it). */
export function isRunning(pid: number): boolean {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return stat[stat.lastIndexOf(")") + 2] !== "Z";
  } catch {
    return false;
  }
}

/** Leftover cgroup directories of mycfs containers anywhere on the host. */
export function mycfsCgroups(): string[] {
  const found = Bun.spawnSync(["find", "/sys/fs/cgroup", "-maxdepth", "8", "-type", "d", "-name", "mycfs-*"]);
  return found.stdout.toString().split("\n").filter(Boolean);
}

/** An overlayfs mounted in `dir` (a file system overlayfs cannot use as an upper layer, for
 * a store that forces mycfs onto a copy of the image); `remove` unmounts and deletes it. */
export function overlayMount(dir: string): { merged: string; remove(): void } {
  for (const d of ["lower", "upper", "work", "merged"]) mkdirSync(join(dir, d), { recursive: true });
  const merged = join(dir, "merged");
  const mount = Bun.spawnSync([
    "mount",
    "-t",
    "overlay",
    "mycfs-test-overlay",
    "-o",
    `lowerdir=${dir}/lower,upperdir=${dir}/upper,workdir=${dir}/work`,
    merged,
  ]);
  if (mount.exitCode !== 0) throw new Error(`mount overlay: ${mount.stderr}`);
  return {
    merged,
    remove: () => {
      Bun.spawnSync(["umount", merged]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A store of `user`'s on overlayfs (where overlayfs cannot be mounted again: mycfs runs
 * a copy of the image, its second attempt). */
export function userStoreOnOverlay(dir: string, user: string): { root: string; remove(): void } {
  const overlay = overlayMount(dir);
  const root = join(overlay.merged, "store");
  mkdirSync(root);
  Bun.spawnSync(["chown", user, root]);
  chmodSync(overlay.merged, 0o755);
  return { root, remove: overlay.remove };
}
