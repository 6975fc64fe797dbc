// The container state directory, the log file, and exec's plan: no root needed.
import { afterAll, describe, expect, test } from "bun:test";
import * as fs from "node:fs";
import { join } from "node:path";
import { parseOptions } from "../src/cli/argv";
import { buildExecPlan, execEnv, execUser, recordedUser, throughEnterProgram } from "../src/container/exec";
import { LogWriter, logFiles, parseLog, parseLogOpts } from "../src/container/log-file";
import { CLONE } from "../src/container/namespaces";
import { decodePlan } from "../src/native/lib";
import { OpCode } from "../src/native/protocol";
import { encodePlan } from "../src/plan/encode";
import { PR } from "../src/plan/ops";
import { StateDir } from "../src/state/dir";
import { loadAll } from "../src/state/recover";
import { bootId, isAlive, processRef, type ContainerState } from "../src/state/record";
import { tempDir } from "./helpers";

const dir = tempDir("state-unit");
afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

function record(id: string, more: Partial<ContainerState> = {}): ContainerState {
  return {
    id,
    image: "busybox",
    command: ["sh"],
    status: "running",
    detached: true,
    autoRemove: false,
    bootId: bootId(),
    supervisor: processRef(process.pid),
    cgroup: { name: `mycfs-${id.slice(0, 12)}`, layout: { mode: "v2", hierarchies: [] } },
    exec: {
      env: ["PATH=/bin", "HOSTNAME=box", "TERM=dumb"],
      workdir: "/srv",
      rlimits: [{ name: "nofile", resource: 7, soft: 1024, hard: 2048 }],
      caps: ["CHOWN", "KILL"],
      noNewPrivs: true,
      seccomp: null,
      user: { uid: 0, gid: 0, additionalGids: [0], home: "/root" },
      groupAdd: ["audio"],
    },
    created: new Date().toISOString(),
    ...more,
  };
}

describe("the state directory", () => {
  const state = new StateDir(join(dir, "run"));
  const a = "ab".repeat(32),
    b = "ac".repeat(32);

  test("containers are found by name, full id or unique prefix; names are claimed once", () => {
    state.create(record(a, { name: "web" }));
    state.create(record(b));
    expect(state.find("web").id).toBe(a);
    expect(state.find(a).id).toBe(a);
    expect(state.find("ab").id).toBe(a);
    expect(() => state.find("a")).toThrow("'a' matches 2 containers (abababababab, acacacacacac); give more of the id");
    expect(() => state.find("zz")).toThrow("no such container: zz");
    expect(() => state.create(record("ad".repeat(32), { name: "web" }))).toThrow("the name 'web' is already used by container abababababab");
    expect(fs.existsSync(state.dir("ad".repeat(32)))).toBe(false); // a refused create leaves nothing
    state.remove(state.find("web"));
    state.create(record("ad".repeat(32), { name: "web" })); // free again
    expect(state.find("web").id).toBe("ad".repeat(32));
    expect(state.ids().sort()).toEqual(["ac".repeat(32), "ad".repeat(32)]);
  });

  test("listing where there is no state directory finds nothing and makes none", () => {
    const none = new StateDir(join(dir, "never-made"));
    expect(loadAll(none)).toEqual([]);
    expect(fs.existsSync(none.root)).toBe(false);
  });

  test("a process is named by pid and start time within one boot", () => {
    const me = processRef(process.pid);
    expect(isAlive(me, bootId())).toBe(true);
    expect(isAlive({ ...me, start: me.start + 1 }, bootId())).toBe(false); // a recycled pid
    expect(isAlive(me, "another-boot")).toBe(false);
    expect(isAlive({ pid: 2 ** 22 + 1, start: 1 }, bootId())).toBe(false);
  });
});

describe("the log file", () => {
  test("one JSON record a line, each stream's partial lines kept apart, rotated by size", () => {
    const path = join(dir, "log.json");
    const w = new LogWriter(fs, path, parseLogOpts(["max-size=1k", "max-file=3"]));
    const enc = new TextEncoder();
    w.write("stdout", enc.encode("hel"));
    w.write("stderr", enc.encode("oops\n"));
    w.write("stdout", enc.encode("lo\nwor"));
    for (let i = 0; i < 40; i++) w.write("stdout", enc.encode(`line ${i}\n`));
    w.write("stdout", enc.encode("tail"));
    w.close();
    const files = logFiles(fs, path);
    expect(files).toEqual([`${path}.2`, `${path}.1`, path]); // the oldest rotated away
    for (const f of files) expect(fs.statSync(f).size).toBeLessThanOrEqual(1024);
    const { records, rest } = parseLog(files.map((f) => fs.readFileSync(f, "utf8")).join(""));
    expect(rest).toBe("");
    expect(records.at(-1)).toEqual({ stream: "stdout", log: "tail", time: expect.any(String) } as never);
    expect(records.at(-2)!.log).toBe("line 39\n");
    const first = parseLog(fs.readFileSync(`${path}.2`, "utf8")).records[0]!;
    expect(first.log).not.toBe("oops\n"); // the first file was dropped at the third rotation
  });

  test("--log-opt names docker's options and refuses others", () => {
    expect(parseLogOpts([])).toEqual({ maxSize: 10 * 1024 * 1024, maxFile: 3 });
    expect(parseLogOpts(["max-size=2m", "max-file=1"])).toEqual({ maxSize: 2 * 1024 * 1024, maxFile: 1 });
    expect(() => parseLogOpts(["max-file=0"])).toThrow("--log-opt max-file=0: expected");
    expect(() => parseLogOpts(["compress=true"])).toThrow("expected max-size=SIZE");
  });
});

describe("exec", () => {
  test("short flags together: -it is -i -t", () => {
    const def = { interactive: { type: "boolean", alias: "i" }, tty: { type: "boolean", alias: "t" }, env: { type: "string", alias: "e" } } as const;
    expect(parseOptions("exec", def, ["-it", "c", "sh"]).values).toEqual({ interactive: true, tty: true });
    expect(parseOptions("exec", def, ["-ie", "A=1", "c"]).values).toEqual({ interactive: true, env: "A=1" });
  });

  test("the environment is the container's, -e entries replacing by name", () => {
    expect(execEnv(["PATH=/bin", "A=1", "B=2"], ["A=x", "C=3"])).toEqual(["PATH=/bin", "A=x", "B=2", "C=3"]);
  });

  test("the plan joins, then gets the container's own limits and privileges, then execs", () => {
    const s = record("ae".repeat(32), { container: { pid: 1234, start: 1 } });
    const opts = { argv: ["ls"], env: ["X=1"], groupAdd: [], tty: true, interactive: true, debug: false };
    const io = { fds: [-1, -1, -1] as [number, number, number], ctty: true };
    const fds = { pidfd: 9, cgroup: 11 };
    const decoded = decodePlan(encodePlan(buildExecPlan(s, opts, fds, io, recordedUser(s))));
    expect(decoded.map((d) => d.code)).toEqual([
      OpCode.SETNS,
      OpCode.ROOT,
      OpCode.CHDIR,
      OpCode.STDIO,
      OpCode.PTY,
      OpCode.RLIMIT,
      OpCode.PRCTL,
      OpCode.CAPBSET,
      OpCode.SETID,
      OpCode.CAPS,
      OpCode.EXEC,
    ]);
    expect(decoded[0]).toMatchObject({ a: 9, b: CLONE.NEWNS | CLONE.NEWUTS | CLONE.NEWIPC | CLONE.NEWNET | CLONE.NEWCGROUP });
    expect(decoded[0]!.b & CLONE.NEWPID).toBe(0); // the clone itself entered it
    expect(decoded[1]!.strs).toEqual(["/"]); // the container's root, which setns made this process's
    expect(decoded[2]!.strs).toEqual(["/srv"]);
    expect(decoded.at(-1)!.strs).toContain("X=1");
    expect(decoded.at(-1)!.strs.some((e) => e.startsWith("TERM=") && e !== "TERM=dumb")).toBe(true);
    // a user namespace is joined too, and the process becomes its root
    const userns = buildExecPlan({ ...s, userns: { rootless: false, dropGroups: true } }, opts, fds, io, recordedUser(s));
    expect(userns[0]!.kind === "setns" && userns[0]!.flags & CLONE.NEWUSER).toBe(CLONE.NEWUSER);
    expect(userns[1]!.kind).toBe("setid");
  });

  test("the user: the container's by default; -u resolved in its files now, with run's --group-add and exec's; HOME its own", () => {
    const s = record("af".repeat(32), { container: { pid: 1234, start: 1 } });
    const accounts = () => ({
      passwd: "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000::/home/app:/bin/sh\n",
      group: "root:x:0:\napp:x:1000:\naudio:x:29:\nvideo:x:44:app\n",
      whose: "the container's",
    });
    const unread = () => {
      throw new Error("read");
    };
    expect(execUser(s, { groupAdd: [] }, unread)).toEqual(s.exec.user!);
    expect(execUser(s, { groupAdd: ["video"] }, accounts)).toEqual({ ...s.exec.user!, additionalGids: [0, 44] });
    const app = execUser(s, { user: "app", groupAdd: ["7"] }, accounts);
    expect(app).toEqual({ uid: 1000, gid: 1000, additionalGids: [1000, 44, 29, 7], home: "/home/app" });
    expect(() => execUser(s, { user: "nobody", groupAdd: [] }, accounts)).toThrow("-u nobody: no user nobody in the container's /etc/passwd");
    const opts = { argv: ["ls"], env: [], groupAdd: [], tty: false, interactive: false, debug: false };
    const plan = buildExecPlan(s, opts, { pidfd: 9, cgroup: -1 }, { fds: [-1, -1, -1], ctty: false }, app);
    expect(plan.find((o) => o.kind === "setid")).toMatchObject({ uid: 1000, gid: 1000, groups: [1000, 44, 29, 7] });
    expect(plan.find((o) => o.kind === "caps")).toMatchObject({ permitted: 0 });
    expect(plan.at(-1)).toMatchObject({ env: ["PATH=/bin", "HOSTNAME=box", "TERM=dumb", "HOME=/home/app"] });
    // rootless with one id: root alone
    const oneId = { ...s, userns: { rootless: true, dropGroups: false } };
    expect(() => execUser(oneId, { user: "app", groupAdd: [] }, accounts)).toThrow("the container's user namespace holds one id");
    expect(execUser(oneId, { user: "root", groupAdd: [] }, accounts)).toMatchObject({ uid: 0, gid: 0 });
  });

  test("a container that could trace the process that enters it gets the enter program's clone", () => {
    const s = record("ae".repeat(32), { container: { pid: 1234, start: 1 } });
    const opts = { argv: ["ls"], env: [], groupAdd: [], tty: false, interactive: false, debug: false };
    const io = { fds: [-1, -1, -1] as [number, number, number], ctty: false };
    const fds = { pidfd: 9, cgroup: 11 };
    const tracer = { ...s, exec: { ...s.exec, caps: [...s.exec.caps, "SYS_PTRACE"] } };
    expect([s, tracer].map(throughEnterProgram)).toEqual([false, true]);
    const plan = buildExecPlan(tracer, opts, fds, io, recordedUser(s));
    expect(plan.slice(0, 3)).toMatchObject([
      { kind: "prctl", option: PR.SET_DUMPABLE, arg: 0 },
      { kind: "enter", pidfd: 9, cgroupFd: 11 },
      { kind: "setns", fd: 9 },
    ]);
    // in a user namespace no container holds CAP_SYS_PTRACE where mycfs's memory is; a
    // rootless one's user owns it: the enter program joins it before the PID namespace
    expect(throughEnterProgram({ ...tracer, userns: { rootless: false, dropGroups: true } })).toBe(false);
    const rootless = buildExecPlan({ ...s, userns: { rootless: true, dropGroups: false } }, opts, { pidfd: 9, cgroup: -1 }, io, recordedUser(s));
    expect(rootless.slice(0, 3)).toMatchObject([
      { kind: "setns", flags: CLONE.NEWUSER },
      { kind: "prctl", arg: 0 },
      { kind: "enter", cgroupFd: -1 },
    ]);
    expect(rootless[3]!.kind === "setns" && rootless[3]!.flags & CLONE.NEWUSER).toBe(0);
  });
});
