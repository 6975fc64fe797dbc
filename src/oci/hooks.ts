// config.json's hooks, run by mycfs in its own namespaces with the container's state on
// stdin (runtime-spec's lifecycle): prestart and createRuntime while the created
// container waits before its root's switch, poststart after `start`, poststop after
// `delete`. A hook that fails or outlives its timeout fails the create (its container is
// destroyed); after the start, it is a warning, as the spec asks.

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
  poststart: Hook[];
  poststop: Hook[];
}

export interface HookState {
  ociVersion: string;
  id: string;
  status: string;
  pid: number;
  bundle: string;
  annotations?: Record<string, string>;
}

/** Runs each hook in turn, until one fails: what failed, or undefined. */
export function runHooks(kind: keyof Hooks, hooks: Hook[], state: HookState): string | undefined {
  const stdin = new TextEncoder().encode(JSON.stringify(state));
  for (const [i, h] of hooks.entries()) {
    const p = Bun.spawnSync([h.path, ...(h.args ?? [h.path]).slice(1)], {
      argv0: h.args?.[0] ?? h.path,
      env: Object.fromEntries((h.env ?? []).map((e) => [e.slice(0, e.indexOf("=")), e.slice(e.indexOf("=") + 1)])),
      stdin,
      stdout: "inherit",
      stderr: "pipe",
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
  }
  return undefined;
}
