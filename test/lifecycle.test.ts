// Containers that outlive the command line: run -d, ps, inspect, exec, logs, stop, kill,
// rm, wait, names, and recovery when a supervisor dies or the state directory goes.
import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, readdirSync, readFileSync, readlinkSync, rmSync } from "node:fs";
import { hostname } from "node:os";
import { join } from "node:path";
import { isRunning, MYCFS as MYCFS_BIN, mycfs, mycfsCgroups, startUntil, tempDir, terminal, testStore } from "./helpers";

const store = testStore("lifecycle");
chmodSync(store.dir, 0o711); // a --userns container's root must reach the store
const env = { MYCFS_ROOT: store.root };
const m = (args: string[], stdin?: string) => mycfs(args, { env, stdin });
/** Starts a detached container; returns its id. */
async function detached(args: string[], cmd: string[]): Promise<string> {
  const r = await m(["run", "-d", ...args, "busybox", ...cmd]);
  if (r.code !== 0) throw new Error(`run -d failed (${r.code}): ${r.stderr}`);
  expect(r.stdout).toMatch(/^[0-9a-f]{64}\n$/);
  return r.stdout.trim();
}
const state = (id: string) => JSON.parse(readFileSync(join(process.env.MYCFS_STATE!, id, "state.json"), "utf8"));
const cgroupsOf = (id: string) => mycfsCgroups().filter((d) => d.endsWith(`/mycfs-${id.slice(0, 12)}`));
const SLEEPER = ["sh", "-c", "trap 'exit 0' TERM; echo up; while :; do sleep 0.05; done"];

afterAll(async () => {
  // whatever a failed test left running
  const ids = (await m(["ps", "-aq"])).stdout.split("\n").filter(Boolean);
  if (ids.length) await m(["rm", "-f", ...ids]);
  store.cleanup();
});

describe("run -d and ps", () => {
  test("run -d prints the id and returns while the container runs; ps, inspect and wait see it", async () => {
    const t0 = Date.now();
    const id = await detached(["--name", "web"], SLEEPER);
    expect(Date.now() - t0).toBeLessThan(5000);
    const s = state(id);
    expect(s).toMatchObject({ id, name: "web", status: "running", detached: true, command: SLEEPER });
    expect(isRunning(s.container.pid)).toBe(true);

    const ps = await m(["ps"]);
    expect(ps.stdout.split("\n")[0]).toMatch(/^CONTAINER ID +NAME +IMAGE +COMMAND +CREATED +STATUS +NETWORK +PID$/);
    expect(ps.stdout).toMatch(new RegExp(`${id.slice(0, 12)} +web +busybox +.* Up \\d+ seconds? +bridge:10\\.87\\.\\d+\\.\\d+ +${s.container.pid}`));
    const json = JSON.parse((await m(["ps", "--format", "json"])).stdout);
    expect(json.map((c: { id: string }) => c.id)).toContain(id);
    const [inspected] = JSON.parse((await m(["inspect", "web"])).stdout);
    expect(inspected).toMatchObject({ id, name: "web", status: "running" });
    // an id prefix works wherever a name does
    expect((await m(["stop", id.slice(0, 6)])).code).toBe(0);
    expect((await m(["wait", "web"])).stdout).toBe("0\n");
    expect((await m(["ps"])).stdout).not.toContain(id.slice(0, 12));
    expect((await m(["ps", "-a"])).stdout).toMatch(new RegExp(`${id.slice(0, 12)} +web .* Exited \\(0\\)`));
    expect(cgroupsOf(id)).toEqual([]);
    expect((await m(["rm", "web"])).code).toBe(0);
    expect(existsSync(join(process.env.MYCFS_STATE!, id))).toBe(false);
    expect(existsSync(join(store.root, "containers", id))).toBe(false);
  });

  test("a foreground container is listed and can be entered; with --rm its record goes with it", async () => {
    const c = await startUntil(["run", "--rm", "--root", store.root, "--name", "fg", "busybox", "sh", "-c", "echo ready; sleep 30"]);
    const id = JSON.parse((await m(["inspect", "fg"])).stdout)[0].id;
    expect(state(id)).toMatchObject({ detached: false, status: "running" });
    expect((await m(["ps"])).stdout).toMatch(/ fg +busybox /);
    expect((await m(["exec", "fg", "sh", "-c", "echo $$"])).stdout).not.toBe("");
    expect((await m(["logs", "fg"])).stderr).toContain("runs in the foreground");
    expect((await m(["stop", "-t", "1", "fg"])).code).toBe(0);
    expect(await c.proc.exited).toBe(137);
    expect(existsSync(join(process.env.MYCFS_STATE!, id))).toBe(false);
  });

  test("wait prints the container's own exit code", async () => {
    const id = await detached([], ["sh", "-c", "sleep 0.2; exit 42"]);
    expect(await m(["wait", id])).toMatchObject({ code: 0, stdout: "42\n" });
    await m(["rm", id]);
  });

  test("names are unique; a missing container or an unknown flag is a clear error", async () => {
    const id = await detached(["--name", "taken"], SLEEPER);
    const clash = await m(["run", "-d", "--name", "taken", "busybox", "true"]);
    expect(clash.code).toBe(125);
    expect(clash.stderr).toBe(`mycfs: the name 'taken' is already used by container ${id.slice(0, 12)}: remove it (mycfs rm taken) or choose another name\n`);
    expect((await m(["run", "--name", "taken", "busybox", "true"])).code).toBe(125);
    expect((await m(["rm", "-f", "taken"])).code).toBe(0);
    // the name is free again
    const again = await detached(["--name", "taken"], SLEEPER);
    expect((await m(["rm", "-f", "taken"])).code).toBe(0);
    expect(existsSync(join(process.env.MYCFS_STATE!, again))).toBe(false);
    expect(await m(["logs", "nope"])).toMatchObject({ code: 125, stderr: "mycfs: no such container: nope (see mycfs ps -a)\n" });
    expect((await m(["run", "-d", "-t", "busybox", "true"])).stderr).toContain("-d cannot be combined with -i or -t");
  });

  test("--rm removes a detached container, its record and its layer, as it ends", async () => {
    const id = await detached(["--rm"], ["sh", "-c", "echo bye"]);
    await m(["wait", id]).catch(() => {});
    for (let i = 0; i < 100 && existsSync(join(process.env.MYCFS_STATE!, id)); i++) await Bun.sleep(20);
    expect(existsSync(join(process.env.MYCFS_STATE!, id))).toBe(false);
    expect(existsSync(join(store.root, "containers", id))).toBe(false);
  });
});

describe("exec", () => {
  test("joins the container: its hostname, PID namespace, cgroup and privileges, not the host's", async () => {
    const id = await detached(["--hostname", "box", "--cap-drop", "NET_RAW"], SLEEPER);
    const x = (cmd: string[], args: string[] = []) => m(["exec", ...args, id.slice(0, 12), ...cmd]);
    expect((await x(["hostname"])).stdout).toBe("box\n");
    expect(hostname()).not.toBe("box");
    // PID 1 is the container's command; the exec'd shell is another process in its namespace
    const ps = (await x(["ps", "-o", "pid,args"])).stdout;
    expect(ps).toMatch(/^ +1 sh -c trap/m);
    const ns = (await x(["sh", "-c", "for f in 1/ns/pid self/ns/pid self/ns/mnt 1/ns/mnt; do readlink /proc/$f; done"])).stdout.split("\n");
    expect(ns[0]).toBe(ns[1]);
    expect(ns[2]).toBe(ns[3]);
    expect(ns[1]).not.toBe(readlinkSync("/proc/self/ns/pid"));
    // same capabilities and no_new_privs as PID 1, and inside the container's cgroup
    const status = (await x(["sh", "-c", "grep -E '^(CapEff|CapBnd|NoNewPrivs)' /proc/1/status /proc/self/status; cat /proc/self/cgroup"])).stdout;
    const field = (who: string, f: string) => new RegExp(`/proc/${who}/status:${f}:\\s*(\\S+)`).exec(status)?.[1];
    for (const f of ["CapEff", "CapBnd", "NoNewPrivs"]) expect(field("self", f)).toBe(field("1", f)!);
    expect(field("self", "NoNewPrivs")).toBe("1");
    expect(
      status
        .split("\n")
        .filter((l) => /^\d+:/.test(l))
        .every((l) => l.endsWith(":/")),
    ).toBe(true);
    // -e over the container's environment, -w, exit codes, stdin with -i
    expect((await x(["sh", "-c", "echo $HOSTNAME $GREETING; pwd"], ["-e", "GREETING=hi", "-w", "/tmp"])).stdout).toBe("box hi\n/tmp\n");
    expect((await x(["sh", "-c", "exit 7"])).code).toBe(7);
    const nf = await x(["no-such-command"]);
    expect(nf).toMatchObject({ code: 127, stderr: "mycfs: no-such-command: executable file not found in $PATH inside the container\n" });
    expect(await x([""])).toMatchObject({
      code: 127,
      stderr: `mycfs: the command is an empty string (""): name the program to run, e.g. mycfs exec ${id.slice(0, 12)} sh\n`,
    });
    expect((await m(["exec", "-i", id, "cat"], "through\n")).stdout).toBe("through\n");
    // only fds 0-2 reach the exec'd command
    expect((await x(["ls", "/proc/self/fd"])).stdout).toBe("0\n1\n2\n3\n"); // 3: ls's own directory
    await m(["rm", "-f", id]);
    expect((await m(["exec", id, "true"])).stderr).toContain("no such container");
  });

  test("in a container with a user namespace, the same uid mapping, seccomp filter and no_new_privs", async () => {
    const id = await detached(["--userns", "auto"], SLEEPER);
    const r = await m(["exec", id, "sh", "-c", "id -u; for p in 1 self; do cat /proc/$p/uid_map; grep -E '^(Seccomp|NoNewPrivs):' /proc/$p/status; done"]);
    expect(r.code).toBe(0);
    const [uid, ...rest] = r.stdout.trim().split("\n");
    expect(uid).toBe("0");
    const [pid1, self] = [rest.slice(0, 3), rest.slice(3)];
    expect(self).toEqual(pid1);
    expect(pid1[0]!.trim().split(/\s+/)[1]).not.toBe("0"); // root inside is not root outside
    expect(pid1).toContain("Seccomp:\t2"); // filter mode
    await m(["rm", "-f", id]);
  });

  test("a stopped container cannot be exec'd into", async () => {
    const id = await detached([], ["true"]);
    await m(["wait", id]);
    expect(await m(["exec", id, "true"])).toMatchObject({ code: 125, stderr: `mycfs: container ${id.slice(0, 12)} is not running\n` });
    await m(["rm", id]);
  });
});

describe("logs, stop, kill, top", () => {
  test("logs gives stdout and stderr back on their own streams, and -f follows to the end", async () => {
    const id = await detached([], ["sh", "-c", "echo out1; echo err1 >&2; sleep 0.5; echo out2"]);
    const follow = await m(["logs", "-f", id]);
    expect(follow.stdout).toBe("out1\nout2\n");
    expect(follow.stderr).toBe("err1\n");
    expect((await m(["logs", "--tail", "1", id])).stdout).toBe("out2\n");
    await m(["rm", id]);
  });

  test("stop: a container that traps SIGTERM ends by itself; one that ignores it is killed after -t", async () => {
    const trapper = await detached([], ["sh", "-c", "trap 'echo got TERM; exit 3' TERM; echo up; while :; do sleep 0.05; done"]);
    const ignorer = await detached([], ["sleep", "60"]); // PID 1 without a handler: SIGTERM does nothing
    let t0 = Date.now();
    expect((await m(["stop", "-t", "10", trapper])).code).toBe(0);
    expect(Date.now() - t0).toBeLessThan(5000);
    expect((await m(["wait", trapper])).stdout).toBe("3\n");
    expect((await m(["logs", trapper])).stdout).toContain("got TERM");
    t0 = Date.now();
    expect((await m(["stop", "-t", "1", ignorer])).code).toBe(0);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(1000);
    expect(Date.now() - t0).toBeLessThan(6000);
    expect((await m(["wait", ignorer])).stdout).toBe("137\n");
    expect((await m(["rm", trapper, ignorer])).code).toBe(0);
  });

  test("kill sends the signal asked for, KILL by default", async () => {
    const id = await detached([], ["sh", "-c", "trap 'exit 10' USR1; echo up; while :; do sleep 0.05; done"]);
    expect((await m(["kill", "-s", "USR1", id])).code).toBe(0);
    expect((await m(["wait", id])).stdout).toBe("10\n");
    expect((await m(["kill", id])).stderr).toContain("is not running");
    const other = await detached([], ["sleep", "60"]);
    await m(["kill", other]);
    expect((await m(["wait", other])).stdout).toBe("137\n");
    expect((await m(["kill", "-s", "NOPE", other])).stderr).toContain("unknown signal 'NOPE'");
    await m(["rm", id, other]);
  });

  test("rm refuses a running container; rm -f kills it; its layer and record go", async () => {
    const id = await detached([], SLEEPER);
    expect(existsSync(join(store.root, "containers", id))).toBe(true);
    const refused = await m(["rm", id]);
    expect(refused).toMatchObject({ code: 125 });
    expect(refused.stderr).toContain("is running: stop it first");
    expect((await m(["rm", "-f", id])).code).toBe(0);
    expect(existsSync(join(store.root, "containers", id))).toBe(false);
    expect(existsSync(join(process.env.MYCFS_STATE!, id))).toBe(false);
    expect(cgroupsOf(id)).toEqual([]);
  });

  test("top lists the container's processes and its cgroup's memory, CPU and pids", async () => {
    const id = await detached(["--pids-limit", "50"], SLEEPER);
    const top = await m(["top", id]);
    expect(top.stdout).toMatch(/^MEMORY [\d.]+ MiB \/ unlimited +CPU [\d.]+ s +PIDS \d+ \/ 50\n/);
    expect(top.stdout).toContain("sh -c trap");
    const json = JSON.parse((await m(["top", "--format", "json", id])).stdout);
    expect(json.procs[0].pid).toBe(state(id).container.pid);
    await m(["rm", "-f", id]);
  });
});

describe("faults", () => {
  test("kill -9 of the supervisor: the container dies, and the next command cleans up", async () => {
    const id = await detached(["--name", "unsupervised"], SLEEPER);
    const s = state(id);
    expect(cgroupsOf(id)).not.toEqual([]);
    process.kill(s.supervisor.pid, "SIGKILL");
    for (let i = 0; i < 250 && isRunning(s.container.pid); i++) await Bun.sleep(20);
    expect(isRunning(s.container.pid)).toBe(false);
    // the record still says running, but ps knows better, and cleans up
    expect(state(id).status).toBe("running");
    expect((await m(["ps"])).stdout).not.toContain("unsupervised");
    expect((await m(["ps", "-a"])).stdout).toMatch(/unsupervised .* Exited \(137\)/);
    expect(state(id)).toMatchObject({ status: "exited", error: "its supervisor died; mycfs cleaned up after it" });
    expect(cgroupsOf(id)).toEqual([]);
    expect((await m(["rm", "unsupervised"])).code).toBe(0);
    expect(existsSync(join(store.root, "containers", id))).toBe(false);
  });

  test("a reboot (the state directory emptied) leaves nothing unusable in the store", async () => {
    const run = tempDir("run");
    const withState = (args: string[]) => mycfs(args, { env: { ...env, MYCFS_STATE: run } });
    const id = (await withState(["run", "-d", "busybox", "true"])).stdout.trim();
    expect((await withState(["wait", id])).stdout).toBe("0\n");
    expect(existsSync(join(store.root, "containers", id))).toBe(true); // kept for mycfs rm
    rmSync(run, { recursive: true, force: true });
    await m(["ps", "-a"]); // any mycfs that reads the store
    expect(readdirSync(join(store.root, "containers"))).not.toContain(id);
  });
});

describe("exec at a terminal", () => {
  test("-it: a prompt, the window size set outside and its changes, Ctrl-C inside, and the host terminal restored", async () => {
    const id = await detached(["--name", "shell"], SLEEPER);
    const dir = store.dir;
    const resize = `(sleep 1; stty rows 30 cols 90 </dev/tty) &`; // the host terminal resized while exec runs
    const t = terminal(
      `stty rows 21 cols 61; stty -g > ${dir}/before; ${resize} MYCFS_ROOT=${store.root} ${MYCFS_BIN} exec -it shell sh; echo EXIT=$?; stty -g > ${dir}/after`,
    );
    try {
      await t.waitFor("/ # ");
      t.type("stty size; tty; hostname\n");
      await t.waitFor("21 61");
      await t.waitFor("/dev/pts/0");
      expect(await t.interruptSleep()).toBeLessThan(5000);
      await Bun.sleep(1000);
      t.type("stty size\n");
      await t.waitFor("30 90");
      t.type("exit 4\n");
      await t.waitFor("EXIT=4");
      await t.close();
      expect(readFileSync(`${dir}/after`, "utf8")).toBe(readFileSync(`${dir}/before`, "utf8"));
    } finally {
      await m(["rm", "-f", id]);
    }
  });

  test("the host terminal is restored when the container is killed under an exec -it", async () => {
    const id = await detached([], SLEEPER);
    const dir = store.dir;
    const t = terminal(`stty -g > ${dir}/before2; MYCFS_ROOT=${store.root} ${MYCFS_BIN} exec -it ${id} sh; echo EXIT=$?; stty -g > ${dir}/after2`);
    await t.waitFor("/ # ");
    await m(["rm", "-f", id]); // the whole container goes, the exec'd shell with it
    await t.waitFor("EXIT=137");
    await t.close();
    expect(readFileSync(`${dir}/after2`, "utf8")).toBe(readFileSync(`${dir}/before2`, "utf8"));
  });
});
