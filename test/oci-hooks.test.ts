// OCI hooks run for real: shell scripts in a temp directory on the host, and hooks run in a
// running container's namespaces, each given the state on stdin, its args and env.
import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { checkHooks, type Hook, type OciState, runHooks } from "../src/oci/hooks";
import { loadOne } from "../src/state/recover";
import { StateDir } from "../src/state/dir";
import { mycfs, testStore } from "./helpers";

const store = testStore("oci-hooks");
const started: string[] = [];
afterAll(async () => {
  for (const id of started) await mycfs(["rm", "-f", id]);
  store.cleanup();
});

const state: OciState = { ociVersion: "1.1.0", id: "c1", status: "created", pid: 4242, bundle: "/srv/bundle", annotations: { "org.example/k": "v" } };

/** A hook script in the test's directory. */
function script(name: string, body: string): string {
  const path = join(store.dir, name);
  writeFileSync(path, `#!/bin/sh\n${body}\n`);
  chmodSync(path, 0o755);
  return path;
}

const failure = async (p: Promise<void>) => {
  try {
    await p;
  } catch (e) {
    return (e as Error).message;
  }
  return "succeeded";
};

describe("hooks in the runtime's namespaces", () => {
  test("the state on stdin, args as argv (argv[0] too), exactly the env given", async () => {
    const out = join(store.dir, "out");
    const path = script("record", `cat > ${out}.state; printf '%s\\n' "$@" > ${out}.args; env > ${out}.env; tr '\\0' ' ' < /proc/$$/cmdline > ${out}.cmdline`);
    await runHooks("createRuntime", [{ path, args: ["my-hook", "one", "two words"], env: ["FOO=bar", "EMPTY="] }], state);
    expect(JSON.parse(readFileSync(`${out}.state`, "utf8"))).toEqual(state);
    expect(readFileSync(`${out}.args`, "utf8")).toBe("one\ntwo words\n");
    const env = readFileSync(`${out}.env`, "utf8").split("\n");
    expect(env).toContain("FOO=bar");
    expect(env).toContain("EMPTY=");
    expect(env.some((l) => l.startsWith("HOME=") || l.startsWith("MYCFS_STATE="))).toBe(false); // none of ours
    // a script's interpreter gets the script's path after its own name; argv[0] is what the kernel was given
    expect(readFileSync(`${out}.cmdline`, "utf8")).toBe(`/bin/sh ${path} one two words `);
    // without args, argv[0] is the path; without env, an empty environment
    await runHooks("poststart", [{ path }], state);
    expect(readFileSync(`${out}.args`, "utf8")).toBe("\n");
    expect(
      readFileSync(`${out}.env`, "utf8")
        .split("\n")
        .filter((l) => l && !/^(PWD|SHLVL|_)=/.test(l)),
    ).toEqual([]);
  });

  test("in order; a non-zero exit stops the rest and names kind, index, path, status and its last stderr line", async () => {
    const log = join(store.dir, "order");
    const first = script("first", `echo first >> ${log}`);
    const fails = script("fails", "echo some detail >&2; echo the reason >&2; exit 3");
    const never = script("never", `echo never >> ${log}`);
    const hooks: Hook[] = [{ path: first }, { path: fails }, { path: never }];
    for (const kind of ["prestart", "createRuntime"] as const)
      expect(await failure(runHooks(kind, hooks, state))).toBe(`hooks.${kind}[1] ${fails}: exit status 3: the reason`);
    expect(readFileSync(log, "utf8")).toBe("first\nfirst\n");
  });

  test("poststart and poststop: a failure is a warning, the next hooks still run", async () => {
    const log = join(store.dir, "post");
    const fails = script("post-fails", "exit 1");
    const after = script("post-after", `echo after >> ${log}`);
    await runHooks("poststart", [{ path: fails }, { path: after }], state);
    await runHooks("poststop", [{ path: join(store.dir, "missing") }, { path: after }], state);
    expect(readFileSync(log, "utf8")).toBe("after\nafter\n");
  });

  test("past its timeout the hook is killed, and that is the error", async () => {
    const path = script("slow", "exec sleep 30");
    expect(await failure(runHooks("createRuntime", [{ path, timeout: 1 }], state))).toBe(`hooks.createRuntime[0] ${path}: timed out after 1 s, killed`);
  });

  test("killed by a signal, or not there: said so", async () => {
    const path = script("killed", "kill -TERM $$");
    expect(await failure(runHooks("prestart", [{ path }], state))).toBe(`hooks.prestart[0] ${path}: killed by SIGTERM`);
    const missing = join(store.dir, "no-such-hook");
    expect(await failure(runHooks("prestart", [{ path: missing }], state))).toStartWith(`hooks.prestart[0] ${missing}: cannot be started (`);
  });

  test("config.json's hooks checked, one line naming the field", () => {
    expect(checkHooks("prestart", undefined)).toEqual([]);
    expect(checkHooks("poststop", [{ path: "/bin/true", args: ["true"], timeout: 5 }])).toEqual([
      { path: "/bin/true", args: ["true"], env: undefined, timeout: 5 },
    ]);
    for (const [hooks, message] of [
      [{}, "hooks.prestart: expected an array of hooks"],
      [[{ path: "true" }], "hooks.prestart[0].path: expected an absolute path"],
      [[{ path: "/bin/true", timeout: 0 }], "hooks.prestart[0].timeout: expected a whole number of seconds above 0"],
      [[{ path: "/bin/true", env: ["NOEQUALS"] }], 'hooks.prestart[0].env: "NOEQUALS" is not KEY=VALUE'],
      [[{ path: "/bin/true", args: [1] }], "hooks.prestart[0].args: expected an array of strings"],
      [[{ path: "/bin/true", when: "now" }], "hooks.prestart[0]: unknown field 'when' (known: path, args, env, timeout)"],
    ] as const)
      expect(() => checkHooks("prestart", hooks)).toThrow(message);
  });
});

describe("hooks in the container's namespaces", () => {
  test("startContainer runs inside a running container: its root, hostname and PID namespace", async () => {
    const r = await mycfs(["run", "-d", "--root", store.root, "--network", "none", "--hostname", "boxed", "busybox", "sleep", "1000"]);
    expect(r.code).toBe(0);
    const id = r.stdout.trim();
    started.push(id);
    const pid = loadOne(new StateDir(), id).container!.pid;
    const hook: Hook = {
      path: "/bin/sh",
      args: ["sh", "-c", 'cat > /tmp/state; hostname > /tmp/host; echo "$X" > /tmp/env; echo $$ > /tmp/pid'],
      env: ["X=y"],
    };
    await runHooks("startContainer", [hook], { ...state, pid }, { enter: { pid } });
    const inside = (f: string) => readFileSync(`/proc/${pid}/root/tmp/${f}`, "utf8");
    expect(JSON.parse(inside("state"))).toEqual({ ...state, pid });
    expect(inside("host")).toBe("boxed\n");
    expect(inside("env")).toBe("y\n");
    expect(Number(inside("pid"))).toBeGreaterThan(1); // a pid of the container's namespace: small
    expect(Number(inside("pid"))).toBeLessThan(100);
    expect(existsSync("/tmp/state")).toBe(false);

    const fails = { path: "/bin/sh", args: ["sh", "-c", "echo inside >&2; exit 4"] };
    expect(await failure(runHooks("createContainer", [fails], state, { enter: { pid } }))).toBe("hooks.createContainer[0] /bin/sh: exit status 4: inside");
    const slow = { path: "/bin/sleep", args: ["sleep", "30"], timeout: 1 };
    expect(await failure(runHooks("startContainer", [slow], state, { enter: { pid } }))).toBe(
      "hooks.startContainer[0] /bin/sleep: timed out after 1 s, killed",
    );
    const missing = await failure(runHooks("startContainer", [{ path: "/no/such/hook" }], state, { enter: { pid } }));
    expect(missing).toStartWith("hooks.startContainer[0] /no/such/hook: cannot be started in the container (");
    expect(await failure(runHooks("startContainer", [hook], state))).toBe("hooks.startContainer: run in the container's namespaces, they need its pid");
  });
});
