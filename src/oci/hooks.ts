// config.json's hooks, with the container's state on stdin (runtime-spec's lifecycle):
// prestart and createRuntime in mycfs's own namespaces, then createContainer in the
// container's, while the created container waits before its root's switch;
// startContainer in the container's namespaces once `start` is asked, before the
// process runs; poststart after `start`, poststop after `delete`. A hook that fails or
// outlives its timeout fails the create or the start (the container is destroyed); after
// the start, it is a warning, as the spec asks. A hook run in the container's namespaces
// is found in mycfs's (the spec: its path resolves in the runtime namespace): mycfs opens
// it and util-linux's nsenter, having joined them, executes it as /proc/self/fd/3 (so
// that is its argv[0]).
import { CLONE } from "../container/namespaces";

export interface Hook {
  path: string;
  args?: string[];
  env?: string[];
  /** Seconds. */
  timeout?: number;
}

export interface Hooks {
  prestart: Hook[];
  createRuntime: Hook[];
  createContainer: Hook[];
  startContainer: Hook[];
  poststart: Hook[];
  poststop: Hook[];
}

/** The container's process and nsenter's options for the namespaces it has of its own. */
export interface Enter {
  pid: number;
  namespaces: string[];
}

export interface HookState {
  ociVersion: string;
  id: string;
  status: string;
  pid: number;
  bundle: string;
  annotations?: Record<string, string>;
}

/** Runs each hook in turn, until one fails: what failed, or undefined. `enter`: in the
 * namespaces of that process. */
export function runHooks(kind: keyof Hooks, hooks: Hook[], state: HookState, enter?: Enter): string | undefined {
  if (!hooks.length) return undefined;
  // node:fs only when a hook runs: loading it costs milliseconds at every create
  const { closeSync, openSync } = require("node:fs") as typeof import("node:fs");
  const stdin = new TextEncoder().encode(JSON.stringify(state));
  for (const [i, h] of hooks.entries()) {
    const args = (h.args ?? [h.path]).slice(1);
    let fd: number | undefined;
    try {
      fd = enter ? openSync(h.path, "r") : undefined;
    } catch (e) {
      return `hooks.${kind}[${i}] ${h.path}: ${(e as Error).message}`;
    }
    const argv = enter ? ["nsenter", "-t", String(enter.pid), ...enter.namespaces, "--", "/proc/self/fd/3", ...args] : [h.path, ...args];
    try {
      const p = Bun.spawnSync(argv, {
        ...(enter ? {} : { argv0: h.args?.[0] ?? h.path }),
        env: Object.fromEntries((h.env ?? []).map((e) => [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)])),
        stdio: [stdin, "inherit", "pipe", ...(fd === undefined ? [] : [fd])],
        cwd: state.bundle,
        ...(h.timeout ? { timeout: h.timeout * 1000, killSignal: "SIGKILL" } : {}),
      } as Parameters<typeof Bun.spawnSync>[1]);
      const why =
        p.signalCode === "SIGKILL" && h.timeout
          ? `timed out after ${h.timeout}s`
          : p.exitCode !== 0
            ? `exited with ${p.exitCode ?? p.signalCode}${p.stderr?.length ? `: ${p.stderr.toString().trim()}` : ""}`
            : undefined;
      if (why) return `hooks.${kind}[${i}] ${h.path} ${why}`;
    } finally {
      if (fd !== undefined) closeSync(fd);
    }
  }
  return undefined;
}

/** nsenter's options for the namespaces in `flags` (CLONE_NEW*), the PID one always: the
 * container's own, with its process as PID 1. */
export function nsenterOptions(flags: number): string[] {
  const option: [number, string][] = [
    [CLONE.NEWUSER, "--user"],
    [CLONE.NEWNS, "--mount"],
    [CLONE.NEWUTS, "--uts"],
    [CLONE.NEWIPC, "--ipc"],
    [CLONE.NEWNET, "--net"],
    [CLONE.NEWCGROUP, "--cgroup"],
    [CLONE.NEWTIME, "--time"],
  ];
  return [...option.filter(([f]) => flags & f).map(([, o]) => o), "--pid"];
}
