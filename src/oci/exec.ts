// runc exec: a process in a created or running OCI container, from a process object
// (--process FILE, as conmon passes it) or the command line. The container's record is
// given to mycfs's own exec (container/exec.ts) as the record of one of its own: the
// same plan, the same ways in (a shared-memory clone, or the enter program).
import { execIn } from "../container/exec";
import type { ContainerIo } from "../container/stdio";
import { close, readFile, replaceFile, sendFd } from "../native/lib";
import { bootId, type ContainerState } from "../state/record";
import { ConfigError, readProcess } from "./config";
import { sendToListener } from "./seccomp-listener";
import { ociError, type OciState } from "./state";
import { debugging, log } from "../log";

export interface ExecRequest {
  id: string;
  /** A process object's JSON (--process), else the options below. */
  processFile?: string;
  args: string[];
  env: string[];
  cwd?: string;
  /** UID[:GID] */
  user?: string;
  tty: boolean;
  detach: boolean;
  noNewPrivs: boolean;
  pidFile?: string;
  consoleSocket?: string;
  debug: boolean;
}

function processOf(r: ExecRequest, base: Record<string, unknown>) {
  if (r.processFile) {
    const text = readFile(r.processFile, 4 << 20);
    if (text === null) throw ociError(`cannot read the process file ${r.processFile}`);
    try {
      return readProcess(JSON.parse(text));
    } catch (e) {
      if (e instanceof ConfigError) throw ociError(e.message.replace(/^config\.json: /, `${r.processFile}: `));
      throw ociError(`${r.processFile}: not valid JSON`);
    }
  }
  if (!r.args.length) throw ociError("exec: give the command to run, or --process FILE");
  const [uid, gid] = (r.user ?? "0:0").split(":").map(Number);
  if (!Number.isInteger(uid) || (gid !== undefined && !Number.isInteger(gid))) throw ociError(`--user ${r.user}: expected UID[:GID]`);
  return readProcess({
    ...base,
    args: r.args,
    env: [...((base.env as string[]) ?? []), ...r.env],
    cwd: r.cwd ?? base.cwd,
    terminal: r.tty,
    user: { uid, gid: gid ?? 0 },
    noNewPrivileges: r.noNewPrivs || base.noNewPrivileges,
  });
}

export async function ociExec(state: OciState, r: ExecRequest): Promise<number> {
  const saved = state.load(r.id);
  const status = state.status(saved);
  if (status !== "running" && status !== "created") throw ociError(`cannot exec in a ${status} container`);
  // without --process, the config's process is the base (its env, cwd, capabilities)
  const config = r.processFile ? {} : (JSON.parse(readFile(`${saved.bundle}/config.json`, 16 << 20) ?? "{}").process ?? {});
  const p = processOf(r, config);
  for (const w of p.warnings) log.warn(w);
  if (debugging) for (const n of p.notes) log.debug(n);
  if (p.terminal && !r.consoleSocket && r.detach) throw ociError("cannot allocate tty if mycfs will detach without setting console socket");
  const record: ContainerState = {
    id: saved.id,
    image: saved.bundle,
    command: p.process.args,
    status: "running",
    detached: true,
    autoRemove: false,
    bootId: bootId(),
    supervisor: { pid: 0, start: 0 },
    container: { pid: saved.pid, start: saved.startTime },
    ...(saved.cgroup ? { cgroup: saved.cgroup } : {}),
    ...(saved.userns ? { userns: saved.userns } : {}),
    exec: {
      env: p.process.env,
      workdir: p.process.cwd,
      user: p.process.user,
      rlimits: p.process.rlimits,
      caps: p.capabilities.bounding,
      capabilities: p.capabilities,
      noNewPrivs: p.process.noNewPrivileges,
      seccomp: saved.seccomp,
      ...(saved.seccompFlags ? { seccompFlags: saved.seccompFlags } : {}),
      ...(saved.inUserns && !saved.userns ? { sharesUserns: true } : {}),
      ...(saved.namespaces === undefined ? {} : { namespaces: saved.namespaces }),
    },
    created: saved.created,
  };
  const io: ContainerIo | undefined =
    p.terminal && r.consoleSocket
      ? {
          fds: [-1, -1, -1],
          ctty: true,
          terminal: (master) => {
            try {
              sendFd(r.consoleSocket!, master, "/dev/ptmx", `send the terminal to the console socket ${r.consoleSocket}`);
            } finally {
              close(master);
            }
          },
          afterSpawn() {},
          start() {},
          drained: async () => {},
          restore() {},
        }
      : p.terminal
        ? undefined // runc exec -t in the foreground: mycfs relays the terminal itself
        : { fds: [-1, -1, -1], ctty: false, afterSpawn() {}, start() {}, drained: async () => {}, restore() {} };
  const pidFile = r.pidFile;
  const listener = saved.seccompListener;
  return execIn(
    record,
    {
      argv: p.process.args,
      env: [],
      workdir: p.process.cwd,
      groupAdd: [],
      debug: r.debug,
      tty: p.terminal && io === undefined,
      interactive: true,
      detach: r.detach,
      started: (pid: number) => {
        if (pidFile) replaceFile(pidFile, String(pid), 0o644);
      },
      ...(listener
        ? {
            seccompListener: (fd: number, pid: number) =>
              sendToListener(listener, fd, pid, {
                ociVersion: saved.ociVersion,
                id: saved.id,
                status,
                pid: saved.pid,
                bundle: saved.bundle,
                annotations: saved.annotations,
              }),
          }
        : {}),
    },
    io,
  );
}
