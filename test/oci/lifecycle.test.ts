// runc's command line on a real bundle: the embedded busybox unpacked as its rootfs, a
// config.json from `mycfs spec`, and create/start/state/kill/delete/run as an engine
// calls them. The created container's process outlives `create` (its parent exits), as
// runc's does.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chownSync, existsSync, readlinkSync, mkdirSync, readFileSync, readdirSync, rmdirSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { isRunning, MYCFS, mycfsCgroups, spawnResult, tempDir, terminal } from "../helpers";
import { answer, closeFd, listen, nextNotification, SECCOMP_USER_NOTIF_FLAG_CONTINUE } from "./seccomp-listener";

let dir: string;
let root: string;

beforeAll(() => {
  dir = tempDir("oci");
  root = join(dir, "state");
  const rootfs = join(dir, "rootfs");
  mkdirSync(rootfs);
  const tar = Bun.spawnSync(["tar", "-xzf", resolve("build/busybox.tar.gz"), "-C", rootfs]);
  if (tar.exitCode !== 0) throw new Error(`unpacking busybox: ${tar.stderr}`);
});

afterAll(() => {
  // every container the tests made is deleted by them; a leftover would fail the suite's checks
  for (const id of existsSync(root) ? readdirSync(root) : []) Bun.spawnSync([MYCFS, "--root", root, "delete", "--force", id]);
  rmSync(dir, { recursive: true, force: true });
});

interface Config {
  process: { args: string[]; terminal: boolean; user: Record<string, unknown>; env: string[]; [k: string]: unknown };
  root: { path: string; readonly: boolean };
  mounts: { destination: string; type: string; source: string; options?: string[] }[];
  linux: Record<string, unknown>;
  [k: string]: unknown;
}

/** A bundle in its own directory: `mycfs spec`'s config with the changes given, the shared busybox root. */
function bundle(name: string, change: (c: Config) => void): string {
  const b = join(dir, name);
  mkdirSync(b);
  const spec = Bun.spawnSync([MYCFS, "spec", "--bundle", b]);
  if (spec.exitCode !== 0) throw new Error(`mycfs spec: ${spec.stderr}`);
  const c = JSON.parse(readFileSync(join(b, "config.json"), "utf8")) as Config;
  c.root.path = join(dir, "rootfs");
  c.process.terminal = false;
  change(c);
  writeFileSync(join(b, "config.json"), JSON.stringify(c));
  return b;
}

/** A bundle whose command is `sh -c script`, with a host directory on /marks for it to
 * leave marks in (it writes /marks/ran when it runs): the bundle and that directory. */
function marksBundle(name: string, script: string): { b: string; marks: string } {
  const marks = join(dir, `${name}-marks`);
  mkdirSync(marks);
  const b = bundle(name, (c) => {
    c.process.args = ["sh", "-c", script];
    c.mounts.push({ destination: "/marks", type: "bind", source: marks, options: ["rbind", "rw"] });
  });
  return { b, marks };
}

/** A runc command; its output goes to files, since a container created inherits (and keeps) them. */
async function oci(args: string[], extraFds: number[] = []) {
  const out = join(dir, `out-${Math.random().toString(36).slice(2)}`);
  const err = `${out}.err`;
  const p = Bun.spawn([MYCFS, "--root", root, ...args], {
    stdio: ["ignore", Bun.file(out), Bun.file(err), ...extraFds],
    env: process.env,
  });
  const code = await p.exited;
  const read = (f: string) => (existsSync(f) ? readFileSync(f, "utf8") : "");
  return { code, out, stdout: () => read(out), stderr: read(err) };
}

/** A create or run mycfs refused as runc does: exit 1, stderr with each text, no state left. */
function expectRefused(r: { code: number; stderr: string }, id: string, ...texts: string[]) {
  expect(r.code).toBe(1);
  for (const t of texts) expect(r.stderr).toContain(t);
  expect(existsSync(join(root, id))).toBe(false);
}

/** A file of a created container's cgroup, from whichever hierarchy has it. */
function cgroupFile(id: string, file: string): string | undefined {
  const saved = join(root, id, "state.json");
  const dirs = existsSync(saved) ? (JSON.parse(readFileSync(saved, "utf8")) as { cgroupDirs: string[] }).cgroupDirs : [];
  return dirs.map((d) => (existsSync(`${d}/${file}`) ? readFileSync(`${d}/${file}`, "utf8").trim() : "")).find(Boolean);
}

const state = async (id: string) => JSON.parse((await oci(["state", id])).stdout()) as { status: string; pid: number; id: string; bundle: string };

async function until(check: () => boolean | Promise<boolean>, ms = 5000) {
  for (const end = Date.now() + ms; Date.now() < end; await Bun.sleep(10)) if (await check()) return;
  throw new Error("timed out");
}

describe("the lifecycle", () => {
  test("create waits before the command, start runs it, delete removes everything", async () => {
    const { b, marks } = marksBundle("basic", "echo ran > /marks/ran; echo out; sleep 1");
    const pidFile = join(dir, "basic.pid");
    const created = await oci(["create", "--bundle", b, "--pid-file", pidFile, "basic"]);
    expect(created.stderr).toBe("");
    expect(created.code).toBe(0);
    const s = await state("basic");
    expect(s).toMatchObject({ id: "basic", status: "created", bundle: b });
    expect(readFileSync(pidFile, "utf8")).toBe(String(s.pid));
    expect(isRunning(s.pid)).toBe(true);
    // the command has not run: its process waits on the exec fifo
    await Bun.sleep(100);
    expect(existsSync(join(marks, "ran"))).toBe(false);
    const cgroups = mycfsCgroups().filter((c) => c.includes("mycfs-oci-basic"));
    expect(cgroups.length).toBeGreaterThan(0);
    const list = await oci(["list"]);
    expect(list.stdout()).toMatch(/^ID\s+PID\s+STATUS\s+BUNDLE/);
    expect(list.stdout()).toContain(`basic   ${s.pid}   created`);

    expect((await oci(["start", "basic"])).code).toBe(0);
    await until(() => existsSync(join(marks, "ran")));
    expect((await state("basic")).status).toBe("running");
    expect(readFileSync(created.out, "utf8")).toBe("out\n"); // the container's stdout is create's
    const again = await oci(["start", "basic"]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain("cannot start an already running container");
    await until(async () => (await state("basic")).status === "stopped");
    expect((await state("basic")).pid).toBe(0);

    expect((await oci(["delete", "basic"])).code).toBe(0);
    expect(existsSync(join(root, "basic"))).toBe(false);
    expect(mycfsCgroups().filter((c) => c.includes("mycfs-oci-basic"))).toEqual([]);
    const gone = await oci(["state", "basic"]);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toContain("container does not exist");
  });

  test("kill signals the process; delete refuses a running one without --force", async () => {
    const b = bundle("kill", (c) => (c.process.args = ["sleep", "100"]));
    expect((await oci(["create", "--bundle", b, "kill"])).code).toBe(0);
    expect((await oci(["start", "kill"])).code).toBe(0);
    const { pid } = await state("kill");
    const refused = await oci(["delete", "kill"]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("cannot delete container kill that is not stopped: running");
    expect((await oci(["kill", "kill", "KILL"])).code).toBe(0);
    await until(() => !isRunning(pid));
    expect((await state("kill")).status).toBe("stopped");
    const late = await oci(["kill", "kill"]);
    expect(late.code).toBe(1);
    expect(late.stderr).toContain("container not running");
    expect((await oci(["delete", "kill"])).code).toBe(0);
  });

  test("kill --all reaches every process; delete --force ends a running container", async () => {
    const b = bundle("all", (c) => (c.process.args = ["sh", "-c", "sleep 100 & sleep 100 & wait"]));
    expect((await oci(["create", "-b", b, "all"])).code).toBe(0);
    expect((await oci(["start", "all"])).code).toBe(0);
    const { pid } = await state("all");
    await until(() => readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(" ").length === 2);
    const kids = readFileSync(`/proc/${pid}/task/${pid}/children`, "utf8").trim().split(" ").map(Number);
    expect((await oci(["kill", "--all", "all", "TERM"])).code).toBe(0);
    await until(() => kids.every((k) => !isRunning(k)));

    const b2 = bundle("force", (c) => (c.process.args = ["sleep", "100"]));
    expect((await oci(["create", "--bundle", b2, "force"])).code).toBe(0);
    expect((await oci(["start", "force"])).code).toBe(0);
    const forced = await state("force");
    expect((await oci(["delete", "--force", "force"])).code).toBe(0);
    expect(isRunning(forced.pid)).toBe(false);
    expect(existsSync(join(root, "force"))).toBe(false);
    await until(async () => (await state("all")).status === "stopped");
    expect((await oci(["delete", "all"])).code).toBe(0);
  });

  test("a created container is deleted without --force, its process ended", async () => {
    const b = bundle("created", (c) => (c.process.args = ["true"]));
    expect((await oci(["create", "--bundle", b, "created"])).code).toBe(0);
    const { pid } = await state("created");
    expect((await oci(["delete", "created"])).code).toBe(0);
    expect(isRunning(pid)).toBe(false);
  });

  test("run: in the foreground, the command's exit code, nothing left after", async () => {
    const b = bundle("run", (c) => (c.process.args = ["sh", "-c", "echo hi; exit 3"]));
    const r = await oci(["run", "--bundle", b, "run"]);
    expect(r.stdout()).toBe("hi\n");
    expect(r.code).toBe(3);
    expect(existsSync(join(root, "run"))).toBe(false);
  });

  test("run with mycfs spec's terminal: mycfs relays it, as runc run does", async () => {
    const b = bundle("tty", (c) => {
      c.process.terminal = true;
      c.process.args = ["sh"];
    });
    const t = terminal(`${MYCFS} --root ${root} run --bundle ${b} tty`);
    t.type("tty; echo $((6 * 7))\n");
    await t.waitFor("/dev/pts/0");
    await t.waitFor("42");
    t.type("exit 3\n");
    expect(await t.close()).toBe(3);
    expect(existsSync(join(root, "tty"))).toBe(false);
  });

  test("an id taken, or badly formed, is refused", async () => {
    const b = bundle("dup", (c) => (c.process.args = ["true"]));
    expect((await oci(["create", "--bundle", b, "dup"])).code).toBe(0);
    const dup = await oci(["create", "--bundle", b, "dup"]);
    expect(dup.code).toBe(1);
    expect(dup.stderr).toContain("container with id exists: dup");
    expect((await oci(["delete", "dup"])).code).toBe(0);
    const bad = await oci(["create", "--bundle", b, "a/b"]);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toContain("invalid container id format: a/b");
  });
});

describe("the front: start and delete without Bun (csrc/front/)", () => {
  // the front alone, without the Bun part: what it does itself succeeds, what it leaves to
  // the Bun part fails saying that part is missing
  const front = (args: string[]) => spawnResult([resolve("build/mycfs-front"), "--root", root, ...args]);
  const deferred = (r: { code: number; stderr: string }) => r.code === 1 && r.stderr.includes("holds no Bun part");

  test("start of a created container, delete of a stopped, a running (--force) and a created one", async () => {
    const { b, marks } = marksBundle("front", "echo ran > /marks/ran");
    expect((await oci(["create", "--bundle", b, "front"])).code).toBe(0);
    const started = await front(["--log", join(dir, "front.log"), "--log-format", "json", "start", "front"]);
    expect(started).toEqual({ code: 0, stdout: "", stderr: "" });
    await until(() => existsSync(join(marks, "ran")));
    expect(deferred(await front(["start", "front"]))).toBe(true); // not created: the Bun part says why
    await until(async () => (await state("front")).status === "stopped");
    const cgroups = JSON.parse(readFileSync(join(root, "front", "state.json"), "utf8")).cgroupDirs as string[];
    expect(cgroups.length).toBeGreaterThan(0);
    expect(await front(["delete", "front"])).toEqual({ code: 0, stdout: "", stderr: "" });
    expect(existsSync(join(root, "front"))).toBe(false);
    expect(cgroups.filter((c) => existsSync(c))).toEqual([]);

    const sleeper = bundle("front-running", (c) => (c.process.args = ["sleep", "100"]));
    expect((await oci(["create", "--bundle", sleeper, "front-running"])).code).toBe(0);
    expect((await front(["start", "front-running"])).code).toBe(0);
    const { pid } = await state("front-running");
    await until(async () => (await state("front-running")).status === "running");
    expect(deferred(await front(["delete", "front-running"]))).toBe(true); // running, no --force
    expect((await front(["--debug", "delete", "-f", "front-running"])).code).toBe(0);
    expect(isRunning(pid)).toBe(false);
    expect(existsSync(join(root, "front-running"))).toBe(false);

    expect((await oci(["create", "--bundle", sleeper, "front-created"])).code).toBe(0);
    const created = await state("front-created");
    expect((await front(["delete", "front-created"])).code).toBe(0);
    expect(isRunning(created.pid)).toBe(false);
    expect(existsSync(join(root, "front-created"))).toBe(false);
  });

  test("a bad id, a missing container, hooks, options it does not know: left to the Bun part", async () => {
    for (const args of [
      ["start", "a/b"],
      ["delete", ".."],
      ["start", "missing"],
      ["delete", "--force", "missing"],
      ["--systemd-cgroup", "start", "x"],
    ])
      expect(deferred(await front(args))).toBe(true);
    const bad = await oci(["start", "a/b"]);
    expect(bad).toMatchObject({ code: 1, stderr: "mycfs: invalid container id format: a/b\n" });
    const missing = await oci(["delete", "--force", "missing"]);
    expect(missing).toMatchObject({ code: 1, stderr: "mycfs: container does not exist\n" });
    const b = bundle("front-hooks", (c) => {
      c.process.args = ["true"];
      c.hooks = { poststart: [{ path: "/bin/true" }], poststop: [{ path: "/bin/true" }] };
    });
    expect((await oci(["create", "--bundle", b, "front-hooks"])).code).toBe(0);
    expect(deferred(await front(["start", "front-hooks"]))).toBe(true);
    expect(deferred(await front(["delete", "--force", "front-hooks"]))).toBe(true);
    expect((await oci(["delete", "--force", "front-hooks"])).code).toBe(0);
  });
});

describe("pause, resume, ps, update, exec", () => {
  test("pause freezes every process, resume lets them go on; ps lists them", async () => {
    const b = bundle("freeze", (c) => (c.process.args = ["sh", "-c", "sleep 100 & sleep 100"]));
    expect((await oci(["create", "--bundle", b, "freeze"])).code).toBe(0);
    expect((await oci(["start", "freeze"])).code).toBe(0);
    const { pid } = await state("freeze");
    await until(async () => JSON.parse((await oci(["ps", "--format", "json", "freeze"])).stdout()).length === 2);
    const pids = JSON.parse((await oci(["ps", "--format", "json", "freeze"])).stdout()) as number[];
    expect(pids).toContain(pid);
    const table = (await oci(["ps", "freeze"])).stdout().trim().split("\n");
    expect(table[0]).toMatch(/^UID\s+PID/);
    expect(
      table
        .slice(1)
        .map((l) => Number(l.split(/\s+/)[1]))
        .sort(),
    ).toEqual([...pids].sort());
    expect((await oci(["pause", "freeze"])).code).toBe(0);
    expect((await state("freeze")).status).toBe("paused");
    const again = await oci(["pause", "freeze"]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain("container not running");
    expect((await oci(["resume", "freeze"])).code).toBe(0);
    expect((await state("freeze")).status).toBe("running");
    // a paused container is deleted too: thawed, then killed
    expect((await oci(["pause", "freeze"])).code).toBe(0);
    expect((await oci(["delete", "--force", "freeze"])).code).toBe(0);
    expect(isRunning(pid)).toBe(false);
  });

  test("update writes new limits to the container's cgroup", async () => {
    const b = bundle("update", (c) => {
      c.process.args = ["sleep", "100"];
      // the disk under the test's directory, throttled
      const dev = statSync(dir).dev;
      const [major, minor] = [Math.floor(dev / 256) & 0xfff, (dev & 0xff) | ((dev >> 12) & 0xfff00)];
      c.linux.resources = {
        ...(c.linux.resources as object),
        hugepageLimits: [{ pageSize: "2MB", limit: 4 << 20 }],
        blockIO: { throttleReadBpsDevice: [{ major, minor, rate: 1048576 }] },
      };
    });
    expect((await oci(["create", "--bundle", b, "update"])).code).toBe(0);
    const limit = (file: string) => cgroupFile("update", file);
    // config.json's hugepage limit, in whichever hierarchy holds hugetlb here
    expect([limit("hugetlb.2MB.limit_in_bytes"), limit("hugetlb.2MB.max")]).toContain(String(4 << 20));
    expect(limit("blkio.throttle.read_bps_device") ?? limit("io.max")).toMatch(/^\d+:\d+ (rbps=)?1048576/);
    expect((await oci(["update", "--memory", "32m", "--pids-limit", "50", "update"])).code).toBe(0);
    expect(limit("pids.max")).toBe("50");
    expect([limit("memory.limit_in_bytes"), limit("memory.max")]).toContain("33554432");
    const res = join(dir, "resources.json");
    writeFileSync(res, JSON.stringify({ pids: { limit: 60 } }));
    expect((await oci(["update", "-r", res, "update"])).code).toBe(0);
    expect(limit("pids.max")).toBe("60");
    // beyond mycfs's limits: a reservation and swappiness (cgroup v1's names here, or v2's)
    writeFileSync(res, JSON.stringify({ memory: { reservation: 16 << 20 } }));
    expect((await oci(["update", "-r", res, "update"])).code).toBe(0);
    expect([limit("memory.soft_limit_in_bytes"), limit("memory.low")]).toContain(String(16 << 20));
    // realtime bandwidth: v1's cpu controller has it, v2 none
    const rt = await oci(["update", "--cpu-rt-runtime", "5", "update"]);
    if (limit("cpu.rt_period_us") !== undefined) expect([rt.code, limit("cpu.rt_runtime_us")]).toEqual([0, "5"]);
    else expect(rt.stderr).toContain("linux.resources.cpu.realtimeRuntime: not available here: cgroup v2 has no such setting");
    // checkBeforeUpdate: a limit below what the container uses is refused
    writeFileSync(res, JSON.stringify({ memory: { limit: 4096, checkBeforeUpdate: true } }));
    const below = await oci(["update", "-r", res, "update"]);
    expect([below.code, below.stderr]).toEqual([
      1,
      expect.stringMatching(/^mycfs: update: memory\.limit: 4096 bytes is below the container's memory use \(\d+ bytes\)/),
    ]);
    expect([limit("memory.limit_in_bytes"), limit("memory.max")]).toContain("33554432");
    expect((await oci(["delete", "update"])).code).toBe(0);
  });

  test("exec: a command, a process file, and -d with its pid file", async () => {
    const b = bundle("exec", (c) => {
      c.process.args = ["sleep", "100"];
      c.process.env.push("FROM_CONFIG=yes");
    });
    expect((await oci(["create", "--bundle", b, "exec"])).code).toBe(0);
    expect((await oci(["start", "exec"])).code).toBe(0);
    const plain = await oci(["exec", "exec", "sh", "-c", "echo $FROM_CONFIG; hostname; exit 5"]);
    expect(plain.stdout()).toBe("yes\nmycfs\n");
    expect(plain.code).toBe(5);
    const proc = join(dir, "process.json");
    const caps = ["CAP_KILL"];
    writeFileSync(
      proc,
      JSON.stringify({
        args: ["sh", "-c", "id -u; pwd; grep CapEff /proc/self/status"],
        cwd: "/tmp",
        user: { uid: 1000, gid: 1000 },
        env: ["PATH=/bin"],
        capabilities: { bounding: caps, effective: caps, permitted: caps, inheritable: caps, ambient: caps },
      }),
    );
    const file = await oci(["exec", "--process", proc, "exec"]);
    expect(file.stderr).toBe("");
    // its capability sets as given, for a user other than root too (ambient: kept across the exec)
    expect(file.stdout()).toBe("1000\n/tmp\nCapEff:\t0000000000000020\n");
    const pidFile = join(dir, "exec.pid");
    const detached = await oci(["exec", "-d", "--pid-file", pidFile, "exec", "sleep", "100"]);
    expect(detached.code).toBe(0);
    const execPid = Number(readFileSync(pidFile, "utf8"));
    expect(isRunning(execPid)).toBe(true); // it outlived mycfs
    expect((await oci(["delete", "--force", "exec"])).code).toBe(0);
    await until(() => !isRunning(execPid));
  });
});

describe("hooks", () => {
  test("prestart and createRuntime before the root's switch, poststart after start, poststop after delete: the state on stdin", async () => {
    const log = join(dir, "hooks.log");
    const hook = (name: string, extra = "") => ({
      path: "/bin/sh",
      args: ["sh", "-c", `read -r state; echo "${name} $state${extra}" >> ${log}`],
      env: [`HOOK=${name}`],
      timeout: 5,
    });
    const b = bundle("hooks", (c) => {
      c.process.args = ["sleep", "100"];
      c.annotations = { "org.example": "yes" };
      c.hooks = {
        prestart: [hook("prestart", " $HOOK")],
        createRuntime: [hook("createRuntime", ' $(ls /proc/$(echo "$state" | sed \'s/.*"pid":\\([0-9]*\\).*/\\1/\')/root/dev/null)')],
        poststart: [hook("poststart")],
        poststop: [hook("poststop")],
      };
    });
    expect((await oci(["create", "--bundle", b, "hooks"])).code).toBe(0);
    const { pid } = await state("hooks");
    const lines = () => readFileSync(log, "utf8").trim().split("\n");
    expect(lines()).toHaveLength(2);
    const [pre, create] = lines();
    expect(JSON.parse(pre!.slice("prestart ".length, pre!.lastIndexOf("}") + 1))).toEqual({
      ociVersion: "1.1.0",
      id: "hooks",
      status: "creating",
      pid,
      bundle: b,
      annotations: { "org.example": "yes" },
    });
    expect(pre).toEndWith("} prestart"); // its env
    // the container's /dev is mounted by then: the child waits before its root's switch
    expect(create).toEndWith(`/proc/${pid}/root/dev/null`);
    expect((await oci(["start", "hooks"])).code).toBe(0);
    expect(lines()[2]).toStartWith('poststart {"ociVersion":"1.1.0","id":"hooks","status":"running"');
    expect((await oci(["delete", "--force", "hooks"])).code).toBe(0);
    expect(lines()[3]).toStartWith('poststop {"ociVersion":"1.1.0","id":"hooks","status":"stopped","pid":0');
  });

  test("createContainer and startContainer run in the container's namespaces, found in mycfs's; a failing one stops the start", async () => {
    // a script of the host's (not in the container's root): its interpreter and commands are the namespace's
    const script = join(dir, "in-container.sh");
    writeFileSync(
      script,
      `#!/bin/sh\nread -r state\necho "$1 $(hostname) $(readlink /proc/self/ns/mnt) $(readlink /proc/self/ns/uts) $(echo "$state" | grep -c '"id":"inside"')"\nexit $2\n`,
      { mode: 0o755 },
    );
    const b = bundle("inside", (c) => {
      c.hostname = "inside-host";
      c.process.args = ["sleep", "100"];
      c.hooks = {
        createContainer: [{ path: script, args: [script, "createContainer", "0"] }],
        startContainer: [{ path: script, args: [script, "startContainer", "0"] }],
      };
    });
    const created = await oci(["create", "--bundle", b, "inside"]);
    expect(created.code).toBe(0);
    const { pid } = await state("inside");
    const ns = (type: string) => readlinkSync(`/proc/${pid}/ns/${type}`);
    expect(ns("mnt")).not.toBe(readlinkSync("/proc/self/ns/mnt"));
    expect(created.stdout()).toBe(`createContainer inside-host ${ns("mnt")} ${ns("uts")} 1\n`);
    const started = await oci(["start", "inside"]);
    expect(started.code).toBe(0);
    expect(started.stdout()).toBe(`startContainer inside-host ${ns("mnt")} ${ns("uts")} 1\n`);
    expect((await oci(["delete", "--force", "inside"])).code).toBe(0);
    // one that fails: the start is an error, and the container is stopped
    const f = bundle("inside-fail", (c) => {
      c.process.args = ["sleep", "100"];
      c.hooks = { startContainer: [{ path: script, args: [script, "startContainer", "4"] }] };
    });
    expect((await oci(["create", "--bundle", f, "inside-fail"])).code).toBe(0);
    const failed = await oci(["start", "inside-fail"]);
    expect(failed.code).toBe(1);
    expect(failed.stderr).toContain(`hooks.startContainer[0] ${script} exited with 4`);
    await until(async () => (await state("inside-fail")).status === "stopped");
    expect((await oci(["delete", "inside-fail"])).code).toBe(0);
  });

  test("a createRuntime hook that fails, or outlives its timeout, fails the create; nothing is left", async () => {
    for (const [name, h, why] of [
      ["hookfail", { path: "/bin/sh", args: ["sh", "-c", "echo no >&2; exit 3"] }, "exited with 3: no"],
      ["hookslow", { path: "/bin/sleep", args: ["sleep", "10"], timeout: 1 }, "timed out after 1s"],
    ] as const) {
      const b = bundle(name, (c) => (c.hooks = { createRuntime: [h] }));
      const r = await oci(["create", "--bundle", b, name]);
      expectRefused(r, name, `hooks.createRuntime[0] ${h.path} ${why}`);
      expect(mycfsCgroups().filter((c) => c.includes(`mycfs-oci-${name}`))).toEqual([]);
    }
  });
});

describe("config.json's fields in the container", () => {
  test("user, umask, hostname, sysctl, rlimits, read-only root, masks, capabilities", async () => {
    const b = bundle("fields", (c) => {
      c.process.args = [
        "sh",
        "-c",
        [
          "id -u; id -g; id -G",
          "umask",
          "hostname",
          "cat /proc/sys/kernel/shmmax",
          "ulimit -n",
          "touch /x 2>/dev/null && echo writable || echo read-only",
          "cat /proc/timer_list | wc -c",
          "grep CapBnd /proc/self/status",
          "cat /proc/self/oom_score_adj",
        ].join("; "),
      ];
      c.process.user = { uid: 1000, gid: 1000, additionalGids: [1000, 20], umask: 0o27 };
      c.process.capabilities = { bounding: ["CAP_KILL"], effective: [], permitted: [], inheritable: [] };
      c.process.rlimits = [{ type: "RLIMIT_NOFILE", soft: 321, hard: 321 }];
      c.process.oomScoreAdj = 500;
      c.hostname = "ocibox";
      c.linux.sysctl = { "kernel.shmmax": "123456" };
    });
    const r = await oci(["run", "--bundle", b, "fields"]);
    expect(r.stderr).toBe("");
    expect(r.code).toBe(0);
    expect(r.stdout().split("\n")).toEqual([
      "1000",
      "1000",
      "1000 20",
      "0027",
      "ocibox",
      "123456",
      "321",
      "read-only",
      "0",
      "CapBnd:\t0000000000000020",
      "500",
      "",
    ]);
  });

  test("a user other than root: its permitted and ambient capabilities survive the uid's change and the exec", async () => {
    const b = bundle("ambient", (c) => {
      c.process.args = ["sh", "-c", "grep -E 'Cap(Eff|Amb)' /proc/self/status"];
      c.process.user = { uid: 1000, gid: 1000 };
      const caps = ["CAP_NET_BIND_SERVICE"];
      c.process.capabilities = { bounding: caps, effective: caps, permitted: caps, inheritable: caps, ambient: caps };
      c.process.noNewPrivileges = false;
    });
    const r = await oci(["run", "--bundle", b, "ambient"]);
    expect(r.stderr).toBe("");
    expect(r.stdout()).toBe("CapEff:\t0000000000000400\nCapAmb:\t0000000000000400\n");
  });

  test("seccomp in OCI's format: the filter is installed, a rule's errno and argument conditions hold", async () => {
    const b = bundle("seccomp", (c) => {
      c.process.args = [
        "sh",
        "-c",
        "grep Seccomp: /proc/self/status; mkdir /tmp/x 2>&1; echo mkdir=$?; kill -0 1 2>&1; echo kill0=$?; kill -CONT 1; echo cont=$?",
      ];
      c.root.readonly = false;
      c.linux.seccomp = {
        defaultAction: "SCMP_ACT_ALLOW",
        architectures: ["SCMP_ARCH_X86_64", "SCMP_ARCH_AARCH64"],
        syscalls: [
          { names: ["mkdir", "mkdirat"], action: "SCMP_ACT_ERRNO", errnoRet: 13 },
          // kill(pid, 0) only: the second argument compared
          { names: ["kill"], action: "SCMP_ACT_ERRNO", errnoRet: 1, args: [{ index: 1, value: 0, op: "SCMP_CMP_EQ" }] },
        ],
      };
    });
    const r = await oci(["run", "--bundle", b, "seccomp"]);
    expect(r.stderr).toBe("");
    const out = r.stdout();
    expect(out).toStartWith("Seccomp:\t2\n");
    expect(out).toContain("Permission denied");
    expect(out).toContain("mkdir=1\n");
    expect(out).toContain("Operation not permitted");
    expect(out).toContain("kill0=1\n");
    expect(out).toEndWith("cont=0\n");
  });

  test("SCMP_ACT_NOTIFY: the listener gets the state and the fd from create and exec, and its answers are what the commands see", async () => {
    const path = join(dir, "agent.sock");
    const agent = listen(path);
    let fd = -1;
    let execFd = -1;
    try {
      const b = bundle("notify", (c) => {
        c.process.args = ["sh", "-c", "for d in a b c; do mkdir /dev/shm/$d 2>/dev/null; echo $d=$?; done; ls /dev/shm; exec sleep 30"];
        c.linux.seccomp = {
          defaultAction: "SCMP_ACT_ALLOW",
          listenerPath: path,
          listenerMetadata: "agent=test",
          flags: ["SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"],
          syscalls: [{ names: ["mkdir", "mkdirat"], action: "SCMP_ACT_NOTIFY" }],
        };
      });
      const created = await oci(["create", "--bundle", b, "notify"]);
      expect(created.stderr).toBe("");
      expect(created.code).toBe(0);
      const got = agent.receive();
      fd = got.fd;
      const { pid } = await state("notify");
      expect(JSON.parse(got.state)).toEqual({
        ociVersion: "1.1.0",
        fds: ["seccompFd"],
        pid,
        metadata: "agent=test",
        state: { ociVersion: "1.1.0", id: "notify", status: "creating", pid, bundle: b, annotations: {} },
      });
      expect((await oci(["start", "notify"])).code).toBe(0);
      // a: done without being done; b: made by the kernel after all; c: refused with EXDEV
      const answers = [{ val: 0 }, { flags: SECCOMP_USER_NOTIF_FLAG_CONTINUE }, { error: -18 }];
      for (const a of answers) {
        const n = nextNotification(fd);
        expect(process.arch === "x64" ? [83, 258] : [34]).toContain(n.nr); // mkdir or mkdirat
        answer(fd, n.id, a);
      }
      await until(() => created.stdout().includes("b\n"));
      expect(created.stdout()).toBe("a=0\nb=0\nc=1\nb\n");
      // an exec'd process loads the filter too: its own fd, with its own pid
      const exec = oci(["exec", "notify", "mkdir", "/dev/shm/e"]);
      const again = agent.receive();
      execFd = again.fd;
      const sent = JSON.parse(again.state);
      expect(sent.pid).not.toBe(pid);
      expect(sent.state).toMatchObject({ id: "notify", status: "running", pid });
      answer(execFd, nextNotification(execFd).id, { error: -18 });
      const r = await exec;
      expect(r.code).toBe(1);
      expect(r.stderr).toContain("Invalid cross-device link");
    } finally {
      for (const f of [fd, execFd]) if (f >= 0) closeFd(f);
      agent.close();
      await oci(["delete", "--force", "notify"]);
    }
  });

  test("SCMP_ACT_NOTIFY: a listener that is not there fails the create, naming the field, nothing left", async () => {
    const b = bundle("notify-gone", (c) => {
      c.linux.seccomp = {
        defaultAction: "SCMP_ACT_ALLOW",
        listenerPath: join(dir, "nobody.sock"),
        syscalls: [{ names: ["mkdir"], action: "SCMP_ACT_NOTIFY" }],
      };
    });
    const r = await oci(["create", "--bundle", b, "notify-gone"]);
    expectRefused(r, "notify-gone", "linux.seccomp.listenerPath", "No such file or directory");
  });

  test("seccomp flags reach seccomp(2): LOG, SPEC_ALLOW and TSYNC taken; one the kernel refuses is named", async () => {
    const flagged = (name: string, flags: string[]) =>
      bundle(name, (c) => {
        c.process.args = ["sh", "-c", "grep Seccomp_filters: /proc/self/status; mkdir /dev/shm/x 2>/dev/null; echo mkdir=$?"];
        c.linux.seccomp = { defaultAction: "SCMP_ACT_ALLOW", flags, syscalls: [{ names: ["mkdir", "mkdirat"], action: "SCMP_ACT_ERRNO" }] };
      });
    const r = await oci([
      "run",
      "--bundle",
      flagged("flags", ["SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW", "SECCOMP_FILTER_FLAG_TSYNC"]),
      "flags",
    ]);
    expect(r.stderr).toBe("");
    expect(r.stdout()).toBe("Seccomp_filters:\t1\nmkdir=1\n");
    // the kernel takes WAIT_KILLABLE_RECV only with a listener: create asks it first
    const refused = await oci(["run", "--bundle", flagged("flags-refused", ["SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"]), "flags-refused"]);
    expectRefused(
      refused,
      "flags-refused",
      "linux.seccomp.flags[0]: SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV: this kernel's seccomp(2) refuses it (Invalid argument (EINVAL)); it needs SCMP_ACT_NOTIFY's listener",
    );
  });

  test("scheduler, ioPriority and personality, seen from inside", async () => {
    const b = bundle("sched", (c) => {
      // /proc/self/stat: 19th field the nice value, 41st the policy
      c.process.args = ["sh", "-c", "cut -d' ' -f19,41 /proc/self/stat; uname -m"];
      Object.assign(c.process, { scheduler: { policy: "SCHED_BATCH", nice: 7 }, ioPriority: { class: "IOPRIO_CLASS_IDLE", priority: 0 } });
      c.linux.personality = { domain: "LINUX32" };
    });
    const r = await oci(["run", "--bundle", b, "sched"]);
    expect(r.stderr).toBe("");
    expect(r.stdout()).toBe(`7 3\n${process.arch === "x64" ? "i686" : "armv8l"}\n`);
  });

  test("rootfsPropagation rslave: a host's mount reaches the container; private by default; a shared root pivots", async () => {
    // the host's / is private here: the test's own mount namespace makes its mounts
    // shared (slaves of the host's, so nothing reaches the host), as systemd's hosts have them
    const vol = join(dir, "prop-vol");
    mkdirSync(join(vol, "sub"), { recursive: true });
    const seen = async (name: string, rslave: boolean) => {
      for (const f of ["go", "ready"]) rmSync(join(vol, f), { force: true });
      const b = bundle(name, (c) => {
        // /v is bound first, and only then the host mounts on it (a bind would copy it)
        c.process.args = ["sh", "-c", "touch /v/ready; while [ ! -e /v/go ]; do sleep 0.02; done; grep -c ' /v/sub ' /proc/self/mountinfo"];
        c.root.readonly = false;
        c.mounts.push({ destination: "/v", type: "bind", source: vol, options: ["rbind", ...(rslave ? ["rslave"] : [])] });
        if (rslave) c.linux.rootfsPropagation = "rslave";
      });
      const script =
        `mount --make-rshared / && { ${MYCFS} --root ${root} run --bundle ${b} ${name} & } && ` +
        `while [ ! -e ${vol}/ready ]; do sleep 0.02; done; mount -t tmpfs mycfs-test-prop ${vol}/sub && touch ${vol}/go && wait $! ; r=$?; umount ${vol}/sub; exit $r`;
      const p = Bun.spawn(["unshare", "-m", "--propagation", "slave", "sh", "-c", script], { stdout: "pipe", stderr: "pipe" });
      const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
      expect(err).toBe("");
      expect(code).toBe(rslave ? 0 : 1); // grep -c's status: 1 when it counts none
      return out.trim();
    };
    expect(await seen("prop-slave", true)).toBe("1");
    expect(await seen("prop-private", false)).toBe("0");
  });

  test("rootfsPropagation shared and unbindable: the container's root is so, seen in its mountinfo", async () => {
    for (const [name, want] of [
      ["shared", /shared:\d+/],
      ["unbindable", /unbindable/],
    ] as const) {
      const b = bundle(`root-${name}`, (c) => {
        c.process.args = ["sh", "-c", "awk '$5 == \"/\"' /proc/self/mountinfo"];
        c.linux.rootfsPropagation = name;
      });
      const r = await oci(["run", "--bundle", b, `root-${name}`]);
      expect(r.stderr).toBe("");
      expect(r.code).toBe(0);
      expect(r.stdout()).toMatch(want);
    }
  });

  test("recursive options: rro and rnosuid reach a bind's submount, which ro alone leaves writable", async () => {
    const vol = join(dir, "rec-vol");
    mkdirSync(join(vol, "sub"), { recursive: true });
    const inside = async (name: string, options: string[]) => {
      const b = bundle(name, (c) => {
        c.process.args = [
          "sh",
          "-c",
          "touch /v/sub/f 2>/dev/null && echo writable || echo read-only; awk '$5 == \"/v/sub\" { print $6 }' /proc/self/mountinfo",
        ];
        c.mounts.push({ destination: "/v", type: "bind", source: vol, options: ["rbind", ...options] });
      });
      // the submount in a mount namespace of the test's own, gone with it
      const script = `mount -t tmpfs mycfs-test-rec ${vol}/sub && ${MYCFS} --root ${root} run --bundle ${b} ${name}`;
      const p = Bun.spawn(["unshare", "-m", "--propagation", "private", "sh", "-c", script], { stdout: "pipe", stderr: "pipe" });
      const [out, err, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
      expect(err).toBe("");
      expect(code).toBe(0);
      return out.trim().split("\n");
    };
    const [rro, attrs] = await inside("rec-rro", ["rro", "rnosuid"]);
    expect(rro).toBe("read-only");
    expect(attrs!.split(",")).toEqual(expect.arrayContaining(["ro", "nosuid"]));
    expect((await inside("rec-ro", ["ro"]))[0]).toBe("writable");
  });

  test("id-mapped binds: the mount's own mappings, or with idmap the user namespace's; a file system that refuses is named", async () => {
    const vol = join(dir, "idmap-vol");
    mkdirSync(vol);
    writeFileSync(join(vol, "mine"), "");
    writeFileSync(join(vol, "root"), "");
    chownSync(join(vol, "mine"), 1234, 1234);
    const ids = "stat -c '%u:%g' /m/mine /m/root";
    const own = bundle("idmap-own", (c) => {
      c.process.args = ["sh", "-c", `${ids} /m2/mine`];
      // two sets of maps: a user namespace made for each
      for (const [destination, hostID] of [
        ["/m", 5678],
        ["/m2", 4321],
      ] as const) {
        const map = [{ containerID: 1234, hostID, size: 1 }];
        c.mounts.push({ destination, type: "bind", source: vol, options: ["rbind"], uidMappings: map, gidMappings: map } as Config["mounts"][0]);
      }
    });
    const r = await oci(["run", "--bundle", own, "idmap-own"]);
    expect(r.stderr).toBe("");
    expect(r.stdout().split("\n")).toEqual(["5678:5678", "65534:65534", "4321:4321", ""]); // 0 is not mapped: the overflow id
    const userns = bundle("idmap-userns", (c) => {
      c.process.args = ["sh", "-c", ids];
      c.linux.namespaces = [...(c.linux.namespaces as object[]), { type: "user" }];
      c.linux.uidMappings = c.linux.gidMappings = [{ containerID: 0, hostID: 100000, size: 65536 }];
      c.mounts.push({ destination: "/m", type: "bind", source: vol, options: ["rbind", "idmap"] });
    });
    mkdirSync(join(dir, "rootfs", "m"), { recursive: true }); // the namespace's root may not make it in the host's root's directory
    const u = await oci(["run", "--bundle", userns, "idmap-userns"]);
    expect(u.stderr).toBe("");
    expect(u.stdout().split("\n")).toEqual(["1234:1234", "0:0", ""]);
    // a mount below an rbind's source would be unlocked there: refused
    const script = `mount -t tmpfs mycfs-test-idmap ${vol}/sub && ${MYCFS} --root ${root} create --bundle ${userns} idmap-sub`;
    mkdirSync(join(vol, "sub"));
    const p = Bun.spawn(["unshare", "-m", "--propagation", "private", "sh", "-c", script], { stdout: "pipe", stderr: "pipe" });
    const [err, code] = await Promise.all([new Response(p.stderr).text(), p.exited]);
    expectRefused({ code, stderr: err }, "idmap-sub", `the id-mapped bind on /m: ${vol} has a mount below it (${vol}/sub)`);
    const refused = bundle("idmap-sysfs", (c) => {
      const map = [{ containerID: 0, hostID: 1000, size: 1 }];
      c.mounts.push({ destination: "/m", type: "bind", source: "/sys/kernel", options: ["rbind"], uidMappings: map, gidMappings: map } as Config["mounts"][0]);
    });
    const f = await oci(["create", "--bundle", refused, "idmap-sysfs"]);
    expectRefused(f, "idmap-sysfs", "the id-mapped bind on /m: make an id-mapped mount of /sys/kernel", "takes no id-mapped mount");
  });

  test("a field mycfs cannot honour: one line naming it, exit 1, nothing made; --log gets it as JSON", async () => {
    const b = bundle("refused", (c) => (c.process.apparmorProfile = "docker-default"));
    const log = join(dir, "refused.log");
    const r = await oci(["--log", log, "--log-format", "json", "create", "--bundle", b, "refused"]);
    expectRefused(r, "refused", "config.json: process.apparmorProfile:");
    expect(r.stderr.trim().split("\n")).toHaveLength(1);
    const line = JSON.parse(readFileSync(log, "utf8").trim());
    expect(line).toMatchObject({ level: "error" });
    expect(line.msg).toContain("process.apparmorProfile");
  });

  test("--preserve-fds: the engine's extra fds reach the command", async () => {
    const b = bundle("fds", (c) => (c.process.args = ["sh", "-c", "cat <&3; ls /proc/self/fd | wc -l"]));
    const file = join(dir, "fd3");
    writeFileSync(file, "through fd 3\n");
    const fd = (await import("node:fs")).openSync(file, "r");
    try {
      const r = await oci(["run", "--preserve-fds", "1", "--bundle", b, "fds"], [fd]);
      expect(r.stderr).toBe("");
      expect(r.stdout()).toBe("through fd 3\n5\n"); // 0-3, and ls's own directory fd
    } finally {
      (await import("node:fs")).closeSync(fd);
    }
  });
});

/** Whether this host has a v1 hierarchy of the controller (a line of /proc/self/cgroup). */
const v1Has = (controller: string) => new RegExp(`^\\d+:([^:]*,)?${controller}(,[^:]*)?:`, "m").test(readFileSync("/proc/self/cgroup", "utf8"));

describe("linux.resources beyond mycfs's limits; device rules in order", () => {
  test("a device allowed, then denied in part, is refused that access; a default one too", async () => {
    const b = bundle("devdeny", (c) => {
      c.process.args = [
        "sh",
        "-c",
        "echo x > /dev/fuse || echo fuse-w-refused; head -c0 /dev/fuse && echo fuse-r; echo x > /dev/full || echo full-w-refused; head -c1 /dev/full | wc -c; echo x > /dev/null && echo null-w",
      ];
      c.linux.devices = [{ path: "/dev/fuse", type: "c", major: 10, minor: 229, fileMode: 0o666 }];
      c.linux.resources = {
        devices: [
          { allow: false, access: "rwm" },
          { allow: true, type: "c", major: 10, minor: 229, access: "rwm" },
          { allow: false, type: "c", major: 10, minor: 229, access: "w" },
          { allow: false, type: "c", major: 1, minor: 7, access: "w" },
        ],
      };
    });
    const r = await oci(["run", "--bundle", b, "devdeny"]);
    expect(r.stdout()).toBe("fuse-w-refused\nfuse-r\nfull-w-refused\n1\nnull-w\n");
    expect(r.stderr).toContain("can't create /dev/fuse: Operation not permitted");
  });

  test("a hole in a wildcard rule: v2's program makes it; where v1's controller is used, refused by name", async () => {
    const b = bundle("devhole", (c) => {
      c.process.args = ["sh", "-c", "echo x > /dev/null || echo null-w-refused; head -c0 /dev/null && echo null-r; echo x > /dev/zero && echo zero-w"];
      c.linux.resources = {
        devices: [
          { allow: false, access: "rwm" },
          { allow: true, type: "c", major: -1, minor: -1, access: "rwm" },
          { allow: false, type: "c", major: 1, minor: 3, access: "w" },
        ],
      };
    });
    const r = await oci(["run", "--bundle", b, "devhole"]);
    if (v1Has("devices")) {
      expect(r.code).toBe(1);
      expect(r.stderr.trim()).toStartWith(
        "mycfs: config.json: linux.resources.devices: deny c 1:3 w after allow c *:* rwm: cgroup v1's devices controller cannot make an exception inside a wildcard rule",
      );
      expect(existsSync(join(root, "devhole"))).toBe(false);
    } else expect(r.stdout()).toBe("null-w-refused\nnull-r\nzero-w\n");
  });

  test("the v2 program for that hole, attached for real below this process's cgroup", async () => {
    const { hostCgroupFs, readLayout } = await import("../../src/cgroups/cgroup");
    const { compileDeviceFilter } = await import("../../src/cgroups/device-filter");
    const v2 = readLayout(hostCgroupFs).hierarchies.find((h) => h.version === 2);
    if (!v2) return; // a v1-only host: no program to try
    const cg = join(v2.own, `mycfs-test-bpf-${process.pid}`);
    mkdirSync(cg);
    try {
      hostCgroupFs.attachDeviceFilter(
        cg,
        compileDeviceFilter([
          { type: "c", major: -1, minor: -1, access: "rwm" },
          { type: "c", major: 1, minor: 3, access: "w", deny: true },
        ]),
      );
      const p = Bun.spawnSync([
        "sh",
        "-c",
        `echo $$ > ${cg}/cgroup.procs && { echo x > /dev/null || echo null-w-refused; head -c0 /dev/null && echo null-r; echo x > /dev/zero && echo zero-w; }`,
      ]);
      expect(p.stdout.toString()).toBe("null-w-refused\nnull-r\nzero-w\n");
    } finally {
      rmdirSync(cg);
    }
  });

  test("cpu's realtime bandwidth, idle and burst, memory's OOM killer and hierarchy, read back; rdma and network where the host has them", async () => {
    const b = bundle("resfiles", (c) => {
      c.process.args = ["sleep", "100"];
      c.linux.resources = {
        memory: { limit: 64 << 20, disableOOMKiller: true, useHierarchy: true, kernel: 1 << 20 },
        cpu: { quota: 50000, period: 100000, realtimePeriod: 1000000, realtimeRuntime: 5000, idle: 1, burst: 20000 },
      };
    });
    const created = await oci(["create", "--bundle", b, "resfiles"]);
    const limit = (file: string) => cgroupFile("resfiles", file);
    try {
      if (v1Has("cpu")) {
        expect(created.stderr).toBe(
          "mycfs: warning: config.json: linux.resources.memory.kernel: ignored, as runc does: kernel memory limits are deprecated by the kernel\n",
        );
        expect([limit("cpu.rt_period_us"), limit("cpu.rt_runtime_us"), limit("cpu.idle"), limit("cpu.cfs_burst_us")]).toEqual([
          "1000000",
          "5000",
          "1",
          "20000",
        ]);
        expect(limit("memory.oom_control")).toContain("oom_kill_disable 1");
        expect(limit("memory.use_hierarchy")).toBe("1");
      } else {
        // v2: no realtime bandwidth, nor a switch for the OOM killer
        expect(created.code).toBe(1);
        expect(created.stderr).toContain("config.json: linux.resources.memory.disableOOMKiller: not available here: cgroup v2 has no such setting");
      }
    } finally {
      await oci(["delete", "--force", "resfiles"]);
    }
    for (const [field, resources] of [
      ["rdma", { rdma: { mlx5_0: { hcaHandles: 1 } } }],
      ["net_cls", { network: { classID: 0x100001 } }],
    ] as const) {
      const id = `res-${field}`;
      const r = await oci(["run", "--bundle", bundle(id, (c) => (c.linux.resources = resources)), id]);
      // no such device here (rdma), or the classid read back
      if (field === "net_cls" && v1Has("net_cls")) expect(r.code).toBe(0);
      else if (field === "rdma" && v1Has("rdma")) expect(r.stderr).toContain("linux.resources.rdma.mlx5_0: write");
      else
        expect([r.code, r.stderr.trim().split("\n").length, r.stderr]).toEqual([
          1,
          1,
          expect.stringMatching(/linux\.resources\.(rdma\.mlx5_0|network\.classID): not available here/),
        ]);
    }
  });

  test("utilization clamps: set where the kernel has them, else refused naming them", async () => {
    const uclamp = Bun.spawnSync(["sh", "-c", "zcat /proc/config.gz 2>/dev/null | grep -q '^CONFIG_UCLAMP_TASK=y'"]).exitCode === 0;
    const b = bundle("uclamp", (c) => {
      c.process.args = ["true"];
      Object.assign(c.process, { scheduler: { policy: "SCHED_OTHER", flags: ["SCHED_FLAG_UTIL_CLAMP_MAX"], utilMax: 512 } });
    });
    const r = await oci(["run", "--bundle", b, "uclamp"]);
    if (uclamp) expect([r.code, r.stderr]).toEqual([0, ""]);
    else {
      expect(r.code).not.toBe(0);
      expect(r.stderr).toContain("utilization clamps of process.scheduler (utilMin 0, utilMax 512)");
    }
  });
});
