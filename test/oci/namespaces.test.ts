// config.json's namespaces joined by path and its time namespace, in real containers
// through runc's command line: each joins the namespaces of a process the test started
// with unshare(1), and shows from inside what it joined.
import { afterAll, afterEach, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { childrenOf, isRunning, MYCFS, mycfsCgroups, tempDir } from "../helpers";

let dir: string;
let root: string;
/** The processes a test started, ended after it (by pid). */
const started: number[] = [];

beforeAll(() => {
  dir = tempDir("oci-ns");
  root = join(dir, "state");
  mkdirSync(join(dir, "rootfs"));
  const tar = Bun.spawnSync(["tar", "-xzf", resolve("build/busybox.tar.gz"), "-C", join(dir, "rootfs")]);
  if (tar.exitCode !== 0) throw new Error(`unpacking busybox: ${tar.stderr}`);
});

afterEach(async () => {
  const pids = started.splice(0).reverse();
  for (const pid of pids) {
    try {
      process.kill(pid, "SIGKILL");
    } catch {}
  }
  for (let i = 0; i < 500 && pids.some(isRunning); i++) await Bun.sleep(10);
  for (const id of existsSync(root) ? readdirSync(root) : []) Bun.spawnSync([MYCFS, "--root", root, "delete", "--force", id]);
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

type Ns = { type: string; path?: string };

/** `mycfs spec`'s config on the busybox root, with `args`, no hostname of its own (the
 * UTS namespace's shows), these namespaces and the other changes given. */
function bundle(name: string, args: string[], namespaces: Ns[], change: (c: { linux: Record<string, unknown> }) => void = () => {}): string {
  const b = join(dir, name);
  mkdirSync(b);
  const spec = Bun.spawnSync([MYCFS, "spec", "--bundle", b]);
  if (spec.exitCode !== 0) throw new Error(`mycfs spec: ${spec.stderr}`);
  const c = JSON.parse(readFileSync(join(b, "config.json"), "utf8"));
  c.root.path = join(dir, "rootfs");
  c.process.terminal = false;
  c.process.args = args;
  delete c.hostname;
  c.linux.namespaces = namespaces;
  change(c);
  writeFileSync(join(b, "config.json"), JSON.stringify(c));
  return b;
}

/** A runc command; its output goes to files, which a created container keeps open. */
async function oci(args: string[]) {
  const out = join(dir, `out-${Math.random().toString(36).slice(2)}`);
  const p = Bun.spawn([MYCFS, "--root", root, ...args], { stdio: ["ignore", Bun.file(out), Bun.file(`${out}.err`)], env: process.env });
  const code = await p.exited;
  return { code, stderr: readFileSync(`${out}.err`, "utf8"), stdout: () => (existsSync(out) ? readFileSync(out, "utf8") : "") };
}

/** The container's own namespaces, but those joined. */
const own = (...types: string[]) => types.map((type) => ({ type }));

/** A process of the test's in namespaces of its own (unshare's options), once it printed
 * "ready"; with --fork, the pid is unshare's child, the one in them all. */
async function holder(options: string[], script = "") {
  const p = Bun.spawn(["unshare", ...options, "sh", "-c", `${script} echo ready; exec sleep 60`], { stdout: "pipe", stderr: "inherit" });
  started.push(p.pid);
  const reader = p.stdout.getReader();
  for (let out = ""; !out.includes("ready"); ) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`unshare ${options.join(" ")} ended: ${out}`);
    out += new TextDecoder().decode(value);
  }
  reader.releaseLock();
  const pid = options.includes("--fork") ? childrenOf(p.pid)[0]! : p.pid;
  if (pid !== p.pid) started.push(pid);
  return pid;
}

const nsOf = (pid: number | "self", type: string) => readlinkSync(`/proc/${pid}/ns/${type}`);

describe("namespaces joined by path", () => {
  test("UTS and IPC: the holder's host name and message queue, its namespaces themselves", async () => {
    const h = await holder(["--uts", "--ipc"], "hostname nsholder && ipcmk -Q >/dev/null &&");
    const b = bundle(
      "uts",
      ["sh", "-c", "hostname; tail -n +2 /proc/sysvipc/msg | wc -l; readlink /proc/self/ns/uts; readlink /proc/self/ns/ipc"],
      [...own("pid", "network", "mount", "cgroup"), { type: "uts", path: `/proc/${h}/ns/uts` }, { type: "ipc", path: `/proc/${h}/ns/ipc` }],
    );
    const r = await oci(["run", "--bundle", b, "uts"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout().split("\n")).toEqual(["nsholder", "1", nsOf(h, "uts"), nsOf(h, "ipc"), ""]);
  });

  test("PID: the container's process is forked into it, sees the holder's processes, and is the one state and exec name", async () => {
    const h = await holder(["--pid", "--fork", "--kill-child"]);
    const b = bundle("pid", ["sleep", "30"], [...own("network", "ipc", "uts", "mount", "cgroup"), { type: "pid", path: `/proc/${h}/ns/pid` }]);
    const created = await oci(["create", "--bundle", b, "pid"]);
    expect(created.stderr).toBe("");
    expect(created.code).toBe(0);
    const { pid } = JSON.parse((await oci(["state", "pid"])).stdout()) as { pid: number };
    expect(nsOf(pid, "pid")).toBe(nsOf(h, "pid"));
    expect((await oci(["start", "pid"])).code).toBe(0);
    const ps = await oci(["exec", "pid", "sh", "-c", "cat /proc/1/comm; cat /proc/2/comm"]);
    expect(ps.stdout()).toBe("sleep\nsleep\n"); // the holder's, then the container's
    expect((await oci(["delete", "--force", "pid"])).code).toBe(0);
    expect(isRunning(h)).toBe(true); // delete ends the container's processes, not the namespace's others
  });

  test("user: those outside it joined first, then it and those it owns; new ones are its own; no maps written", async () => {
    const h = await holder(["--user", "--ipc", "--net"]);
    writeFileSync(`/proc/${h}/uid_map`, "0 100000 65536");
    writeFileSync(`/proc/${h}/gid_map`, "0 100000 65536");
    const uts = await holder(["--uts"], "hostname outside &&"); // the host's user namespace owns this one
    const b = bundle(
      "user",
      ["sh", "-c", "cat /proc/self/uid_map; hostname; cat /proc/1/comm; readlink /proc/self/ns/ipc; readlink /proc/self/ns/net; stat -c %U /"],
      [
        ...own("pid", "mount", "cgroup"),
        { type: "user", path: `/proc/${h}/ns/user` },
        { type: "uts", path: `/proc/${uts}/ns/uts` },
        { type: "ipc", path: `/proc/${h}/ns/ipc` },
        { type: "network", path: `/proc/${h}/ns/net` },
      ],
    );
    const r = await oci(["run", "--bundle", b, "user"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    const [map, ...rest] = r.stdout().split("\n");
    expect(map!.trim().split(/\s+/)).toEqual(["0", "100000", "65536"]);
    // PID 1 is the container's own; the root's files are host root's, unmapped
    expect(rest).toEqual(["outside", "sh", nsOf(h, "ipc"), nsOf(h, "net"), "nobody", ""]);
    // exec joins it as well, as the container's root
    const b2 = bundle("user-exec", ["sleep", "30"], [...own("pid", "mount", "network", "ipc", "uts"), { type: "user", path: `/proc/${h}/ns/user` }]);
    expect((await oci(["create", "--bundle", b2, "user-exec"])).code).toBe(0);
    expect((await oci(["start", "user-exec"])).code).toBe(0);
    const id = await oci(["exec", "user-exec", "sh", "-c", "id -u; readlink /proc/self/ns/user"]);
    expect(id.stdout()).toBe(`0\n${nsOf(h, "user")}\n`);
  });

  test("time: the holder's clock offsets", async () => {
    const h = await holder(["--time", "--boottime", "1000000"]);
    const b = bundle(
      "time",
      ["cat", "/proc/uptime"],
      [...own("pid", "network", "ipc", "uts", "mount", "cgroup"), { type: "time", path: `/proc/${h}/ns/time` }],
    );
    const r = await oci(["run", "--bundle", b, "time"]);
    expect(r.stderr).toBe("");
    expect(Number(r.stdout().split(" ")[0])).toBeGreaterThan(1_000_000);
  });

  test("a file of another type, or no namespace at all: one line naming it, nothing made", async () => {
    const cases: [string, string][] = [
      ["/proc/self/ns/ipc", "/proc/self/ns/ipc is an IPC namespace, not a UTS one; give a UTS namespace (/proc/PID/ns/uts, or a bind mount of one)"],
      ["/etc/hostname", "/etc/hostname is no namespace file; give a UTS namespace (/proc/PID/ns/uts, or a bind mount of one)"],
    ];
    for (const [path, message] of cases) {
      const b = bundle(`bad-${path.length}`, ["true"], [...own("pid", "mount"), { type: "uts", path }]);
      const r = await oci(["create", "--bundle", b, "bad"]);
      expect(r.code).toBe(1);
      expect(r.stderr).toBe(`mycfs: config.json: linux.namespaces: uts path: ${message}\n`);
      expect(existsSync(join(root, "bad"))).toBe(false);
    }
    expect(mycfsCgroups().filter((c) => c.includes("mycfs-oci-bad"))).toEqual([]);
  });
});

describe("a new time namespace", () => {
  test("its boottime and monotonic offsets, for the command and for exec", async () => {
    const b = bundle("offsets", ["sh", "-c", "cat /proc/uptime; exec sleep 30"], [...own("pid", "network", "ipc", "uts", "mount", "cgroup", "time")], (c) => {
      c.linux.timeOffsets = { boottime: { secs: 864000, nanosecs: 0 }, monotonic: { secs: 5, nanosecs: 0 } };
    });
    const created = await oci(["create", "--bundle", b, "offsets"]);
    expect(created.stderr).toBe("");
    expect((await oci(["start", "offsets"])).code).toBe(0);
    const hostUptime = Number(readFileSync("/proc/uptime", "utf8").split(" ")[0]);
    const uptime = async () => Number((await oci(["exec", "offsets", "cat", "/proc/uptime"])).stdout().split(" ")[0]);
    const inside = await uptime();
    expect(inside).toBeGreaterThanOrEqual(hostUptime + 864000);
    expect(inside).toBeLessThan(hostUptime + 864000 + 60);
    for (let i = 0; i < 100 && !created.stdout(); i++) await Bun.sleep(10);
    expect(Number(created.stdout().split(" ")[0])).toBeGreaterThanOrEqual(hostUptime + 864000 - 60);
    // both offsets, as the namespace the command is in has them
    const { pid } = JSON.parse((await oci(["state", "offsets"])).stdout()) as { pid: number };
    expect(readFileSync(`/proc/${pid}/timens_offsets`, "utf8")).toBe("monotonic           5         0\nboottime       864000         0\n");
    expect(nsOf(pid, "time")).not.toBe(nsOf("self", "time"));
  });
});
