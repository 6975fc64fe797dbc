// runc's create and run: read the bundle, make the cgroup, clone the container's process
// and walk its plan up to the exec fifo (state.ts says what happens after).
import { ContainerCgroup, hostCgroupFs, readLayout } from "../cgroups/cgroup";
import { type DeviceRule, ruleText, v1Conflict } from "../cgroups/devices";
import { hostRootWithoutParent } from "../container/initramfs";
import { NAMESPACE_FLAGS, openNamespaceFile } from "../container/namespaces";
import { buildPlan, type HostFacts, namespaceSetup } from "../container/plan";
import { idmappedTrees } from "../container/idmap";
import { directoryRootfs, openRootfsDir } from "../container/rootfs";
import { E } from "../errno";
import { MycfsError, SysError } from "../errors";
import { exitCode, exitOf, FORWARDED_SIGNALS, failureError, withCgroupFd } from "../container/run";
import { HostEffects } from "../container/effects";
import { handshake } from "../container/handshake";
import { writeMaps } from "../container/userns";
import type { ContainerIo } from "../container/stdio";
import { ensureDir } from "../images/store";
import { debugging, log } from "../log";
import {
  close,
  errnoMessage,
  fileMode,
  fileType,
  layerEntry,
  listDir,
  mkdir,
  mkfifo,
  openFifo,
  processStart,
  readFile,
  removeTree,
  replaceFile,
  S_IFMT,
  seccompFlagsRefused,
  sendFd,
  setDumpable,
  spawn,
  waitGone,
  writeFile,
} from "../native/lib";
import { PlanFlag, Sync } from "../native/protocol";
import { encodePlan } from "../plan/encode";
import { type ContainerSpec, hasNamespace, type Namespace } from "../spec/spec";
import { ConfigError, type OciContainer, readConfig } from "./config";
import { sendToListener } from "./seccomp-listener";
import { hostRoot } from "../cli/oci-select";
import { nsenterOptions, runHooks } from "./hooks";
import { writeCgroupFiles } from "./update";
import { checkId, OCI_VERSION, type OciState, ociError, remove, removeParents, type Saved, start } from "./state";

/** Where cgroupsPath puts the cgroup, below the caller's own cgroup in each hierarchy (a
 * path is the caller's cgroup's sub-path, never the host's root: an engine's absolute
 * path lands below the cgroup the engine runs in); systemd's "slice:prefix:name" form as
 * the path systemd would give it, without systemd. */
export function cgroupPath(given: string | undefined, id: string): string {
  if (!given) return `mycfs-oci-${id}`;
  const systemd = /^([^:/]*):([^:/]*):([^:/]+)$/.exec(given);
  const path = systemd ? `${systemd[1] || "system.slice"}/${systemd[2] ? `${systemd[2]}-` : ""}${systemd[3]}.scope` : given;
  const parts = path.split("/").filter(Boolean);
  if (!parts.length || parts.some((p) => p === "." || p === ".."))
    throw ociError(`config.json: linux.cgroupsPath: ${given}: expected a path of names, or slice:prefix:name`);
  return parts.join("/");
}

export interface CreateOptions {
  /** run in the foreground: the terminal mycfs relays, given the container's pty master. */
  terminal?: ContainerIo;
  id: string;
  bundle: string;
  pidFile?: string;
  consoleSocket?: string;
  preserveFds: number;
  noPivot: boolean;
  debug: boolean;
}

/** Reads the bundle, makes the cgroup, clones the container's process and walks its plan
 * up to the exec fifo. Returns the state; the process waits for `start`. */
export function create(state: OciState, o: CreateOptions): Saved {
  const id = checkId(o.id);
  const bundle = o.bundle.replace(/\/+$/, "") || "/";
  const json = readFile(`${bundle}/config.json`, 16 << 20);
  if (json === null) throw ociError(`cannot read ${bundle}/config.json; give the bundle's directory with --bundle`);
  const c: OciContainer = readConfig(json, bundle, {
    isDir: (path) => {
      const mode = fileMode(path);
      return mode === null ? undefined : (mode & 0o170000) === S_IFMT.DIR;
    },
    underRoot: (rootfs, path) => {
      const root = openRootfsDir(rootfs);
      try {
        const entry = layerEntry(root, path);
        if (entry === null) return "absent";
        if ((entry.mode & 0o170000) !== S_IFMT.DIR) return "other";
        // no symlink on the way (layerEntry followed none), so the name leads where it looked
        return (listDir(`/proc/self/fd/${root}${path}`) ?? []).length ? "nonempty" : "empty";
      } catch (e) {
        if (e instanceof SysError && e.errno === E.ELOOP) return "other"; // a symlink on the way
        throw e;
      } finally {
        close(root);
      }
    },
    seccompFlagsRefused: (flags) => {
      const errno = seccompFlagsRefused(flags);
      return errno ? errnoMessage(errno) : undefined;
    },
    compileSeccomp: (profile) => {
      const { compileProfile } = require("../seccomp/compile") as typeof import("../seccomp/compile");
      const { hostArch } = require("../seccomp/filter") as typeof import("../seccomp/filter");
      return compileProfile(profile, { arch: hostArch(), caps: new Set() });
    },
  });
  for (const w of c.warnings) log.warn(w);
  if (debugging) for (const n of c.notes) log.debug(n);
  if (c.terminal && !o.consoleSocket && !o.terminal) throw ociError("cannot allocate tty if mycfs will detach without setting console socket");
  if (!c.terminal && o.consoleSocket) throw ociError("cannot use console socket if mycfs will not detach or allocate tty");
  const spec = o.noPivot ? { ...c.spec, mycfs: { ...c.spec.mycfs, pivot: false } } : c.spec;
  const rootless = !hostRoot();

  ensureDir(state.root);
  const dir = state.dir(id);
  const made = (() => {
    try {
      mkdir(dir, 0o711);
      return true;
    } catch {
      return false;
    }
  })();
  if (!made) throw ociError(`container with id exists: ${id}`);
  // undone if the create fails; kept for start and delete if it does not
  const effects = new HostEffects();
  effects.made("the container's state directory", () => removeTree(dir));
  try {
    const layout = readLayout(hostCgroupFs);
    if (!rootless && layout.hierarchies.some((h) => h.version === 1 && h.controllers.includes("devices"))) refuseV1Holes(c.deviceRules);
    const name = cgroupPath(c.cgroupsPath, id);
    // every hierarchy, as runc's: `update` may set any limit later, `pause` needs the freezer
    const cgroup = ContainerCgroup.of(hostCgroupFs, layout, name, c.limits, rootless ? undefined : c.deviceRules);
    // a cgroupsPath of several names: the parents, top down, with their hierarchy (a new v1
    // cpuset is empty, and takes no child until given its parent's CPUs and memory nodes)
    const parents = [...cgroup.dirs].flatMap(([h, d]) => {
      const rel = d.slice(h.own.length + 1).split("/");
      const cpuset = h.version === 1 && h.controllers.includes("cpuset");
      return rel.slice(0, -1).map((_, i) => ({ dir: `${h.own}/${rel.slice(0, i + 1).join("/")}`, cpuset }));
    });
    const blocked = cgroup.unwritable();
    const withCgroup = !blocked || !rootless;
    const madeParents: string[] = [];
    if (withCgroup) {
      for (const { dir: p, cpuset } of parents)
        if (fileType(p) === null) {
          mkdir(p, 0o755, true);
          madeParents.push(p);
          if (cpuset) for (const f of ["cpuset.cpus", "cpuset.mems"]) writeFile(`${p}/${f}`, (readFile(`${p.slice(0, p.lastIndexOf("/"))}/${f}`) ?? "").trim());
        }
      effects.made("the cgroup's parents", () => removeParents(madeParents));
      cgroup.create();
      effects.made("the container's cgroup", () => cgroup.remove());
      if (c.cgroupFiles.length) writeCgroupFiles(cgroup, c.cgroupFiles);
    } else {
      if (c.cgroupFiles.length) throw ociError(`config.json: ${c.cgroupFiles[0]!.field}: the container's cgroup cannot be made (${blocked.path})`);
      log.warn(`the container's cgroup cannot be made (${blocked.path}): it runs without one`);
    }
    const fifo = state.fifo(id);
    mkfifo(fifo, 0o600);
    const fifoFd = openFifo(fifo, false) as number;
    effects.made("the exec fifo", () => close(fifoFd));
    const rootfs = directoryRootfs(c.rootfs);
    effects.made("the container's root", () => rootfs.cleanup(false));
    const joined = openJoined(spec.linux.namespaces, effects);
    const mountTrees = (() => {
      try {
        return idmappedTrees(spec.mounts, hasNamespace(spec, "user"));
      } catch (e) {
        throw e instanceof MycfsError ? ociError(e.message) : e; // exit 1, as runc's
      }
    })();
    effects.made("the id-mapped mounts", () => mountTrees.forEach(close));
    const host: HostFacts = {
      rootfs,
      cgroups: withCgroup
        ? { join: cgroup.joinOps(), binds: cgroup.binds(!hasNamespace(spec, "cgroup")), v2Only: layout.mode === "v2" }
        : { join: [], binds: [], v2Only: layout.mode === "v2" },
      rootWithoutParent: spec.mycfs.pivot && hostRootWithoutParent(),
      dropGroups: true,
      joined,
      awaitStart: { fd: fifoFd, keepFds: o.preserveFds },
      hooks: c.hooks.prestart.length + c.hooks.createRuntime.length + c.hooks.createContainer.length > 0,
      inUserns: rootless && process.getuid?.() === 0,
      ...(mountTrees.size ? { mountTrees } : {}),
    };
    const plan = buildPlan(spec, host, { fds: [-1, -1, -1], ctty: c.terminal });
    // the container's namespaces but the PID one, which exec and in-container hooks join
    const namespaceFlags = spec.linux.namespaces.filter((n) => n.type !== "pid").reduce((f, n) => f | NAMESPACE_FLAGS[n.type], 0);
    setDumpable(true);
    const spawned = withCgroupFd(withCgroup ? cgroup : undefined, (v2) =>
      spawn(encodePlan(plan, o.debug ? PlanFlag.TIMINGS : 0), namespaceSetup(spec, host).clone, v2),
    );
    // the container's process: the one cloned, or the one it forks (Sync.FORKED)
    let pid = spawned.pid;
    const st = { ociVersion: OCI_VERSION, id, status: "creating", pid, bundle, annotations: c.annotations };
    let failure: ReturnType<typeof handshake>;
    try {
      failure = handshake(
        spawned.sock,
        plan,
        {
          [Sync.NAMESPACES]: () => {
            if (c.userns) writeMaps(pid, c.userns);
          },
          [Sync.FORKED]: (pidfd: number) => {
            const forked = pidOf(pidfd);
            close(pidfd);
            waitGone(pid); // the process that forked it has ended
            pid = st.pid = forked;
          },
          [Sync.HOOKS]: () => {
            const inside = { pid, namespaces: nsenterOptions(namespaceFlags) };
            const failed =
              runHooks("prestart", c.hooks.prestart, st) ??
              runHooks("createRuntime", c.hooks.createRuntime, st) ??
              runHooks("createContainer", c.hooks.createContainer, st, inside);
            if (failed) throw ociError(failed);
          },
          [Sync.SECCOMP]: (fd: number) => (c.seccompListener ? sendToListener(c.seccompListener, fd, pid, st) : close(fd)),
          [Sync.TERMINAL]: (fd: number) => {
            if (!o.consoleSocket) return o.terminal?.terminal?.(fd); // run in the foreground: mycfs relays it
            try {
              sendFd(o.consoleSocket, fd, "/dev/ptmx", `send the terminal to the console socket ${o.consoleSocket}`);
            } finally {
              close(fd);
            }
          },
        },
        (step, us) => log.debug(`${plan[step]!.what}: ${(us / 1000).toFixed(2)} ms`),
      );
    } catch (e) {
      process.kill(pid, "SIGKILL");
      waitGone(pid);
      throw e;
    } finally {
      close(spawned.sock);
    }
    if (failure) {
      waitGone(pid);
      const f = failureError(plan, failure);
      throw ociError(f.message);
    }
    const startTime = processStart(pid);
    if (startTime === null) throw ociError("the container's process ended before it was created");
    const saved: Saved = {
      ociVersion: OCI_VERSION,
      id,
      pid,
      startTime,
      bundle,
      rootfs: c.rootfs,
      created: new Date().toISOString(),
      annotations: c.annotations,
      cgroupDirs: withCgroup ? [...cgroup.dirs.values()] : [],
      cgroupParents: madeParents,
      owner: process.getuid?.() ?? 0,
      ...(withCgroup ? { cgroup: { name: cgroup.name, layout: cgroup.layout } } : {}),
      ...(hasNamespace(spec, "user") ? { userns: { rootless, dropGroups: true } } : {}),
      seccomp: spec.linux.seccomp?.toBase64() ?? null,
      ...(spec.linux.seccompFlags ? { seccompFlags: spec.linux.seccompFlags } : {}),
      ...(c.seccompListener ? { seccompListener: c.seccompListener } : {}),
      hooks: { startContainer: c.hooks.startContainer, poststart: c.hooks.poststart, poststop: c.hooks.poststop },
      ...(host.inUserns ? { inUserns: true } : {}),
      namespaces: namespaceFlags,
      ...(c.memoryCheckBeforeUpdate ? { memoryCheckBeforeUpdate: true } : {}),
    };
    replaceFile(`${dir}/state.json`, JSON.stringify(saved), 0o600);
    if (o.pidFile) replaceFile(o.pidFile, String(pid), 0o644);
    // what the child holds now, the parent lets go of
    close(fifoFd);
    rootfs.cleanup(false);
    for (const j of Object.values(joined)) close(j.fd);
    mountTrees.forEach(close);
    if (debugging) log.debug(`container ${id} created: pid ${pid}, waiting for start`);
    return saved;
  } catch (e) {
    effects.undoAll();
    throw e;
  }
}

/** The namespaces the config joins by path, opened and checked to be of their type (each
 * closed if the create fails), with which of them a joined user namespace owns. */
function openJoined(namespaces: ContainerSpec["linux"]["namespaces"], effects: HostEffects): NonNullable<HostFacts["joined"]> {
  const opened: [Namespace, ReturnType<typeof openNamespaceFile>][] = [];
  for (const n of namespaces) {
    if (n.path === undefined) continue;
    const ns = (() => {
      try {
        return openNamespaceFile(n.path, n.type, `config.json: linux.namespaces: ${n.type} path`);
      } catch (e) {
        throw e instanceof MycfsError ? ociError(e.message) : e; // a config's fault: runc's exit 1
      }
    })();
    effects.made(`the joined ${n.type} namespace`, () => close(ns.fd));
    opened.push([n.type, ns]);
  }
  const user = opened.find(([t]) => t === "user")?.[1];
  return Object.fromEntries(opened.map(([t, ns]) => [t, { fd: ns.fd, ...(user && t !== "user" && ns.owner === user.inode ? { inUserns: true } : {}) }]));
}

/** The pid (in our PID namespace) of the process behind a pidfd. */
function pidOf(pidfd: number): number {
  const pid = Number(/^Pid:\s*(-?\d+)$/m.exec(readFile(`/proc/self/fdinfo/${pidfd}`) ?? "")?.[1] ?? -1);
  if (pid <= 0) throw ociError("the container's process ended before it was created");
  return pid;
}

/** Whether a config.json's process asks for a terminal (a bad one is create's to report). */
function terminalAsked(json: string): boolean {
  try {
    return JSON.parse(json)?.process?.terminal === true;
  } catch {
    return false;
  }
}

/** runc run: create, start, and (in the foreground) wait, forward signals, delete. */
export async function run(state: OciState, o: CreateOptions & { detach: boolean }): Promise<number> {
  // runc run in the foreground with a terminal and no console socket relays it itself,
  // as `mycfs run -t` does (its raw mode, window size, and the terminal given back)
  const config = readFile(`${o.bundle}/config.json`, 16 << 20);
  const wantsTty = !o.detach && !o.consoleSocket && config !== null && terminalAsked(config);
  // the terminal relay only when it is asked for: create and detached runs do without it
  const terminal = wantsTty ? await (await import("../container/stdio")).openIo({ tty: true, interactive: true }) : undefined;
  try {
    const s = create(state, { ...o, ...(terminal ? { terminal } : {}) });
    const forward = (sig: NodeJS.Signals) => process.kill(s.pid, sig);
    const exited = o.detach ? undefined : exitOf(s.pid);
    try {
      start(state, s.id);
      if (!exited) return 0;
      terminal?.start();
      for (const sig of FORWARDED_SIGNALS) process.on(sig, forward);
      const code = exitCode(await exited);
      await terminal?.drained();
      return code;
    } finally {
      for (const sig of FORWARDED_SIGNALS) process.off(sig, forward);
      if (exited) remove(state, s.id, true);
    }
  } finally {
    terminal?.restore();
  }
}

/** Device rules cgroup v1's controller would not honour, where the host uses it. */
function refuseV1Holes(rules: readonly DeviceRule[]) {
  const conflict = v1Conflict(rules);
  if (!conflict) return;
  const text = (r: DeviceRule) => `${r.deny ? "deny" : "allow"} ${ruleText(r)}`;
  throw new ConfigError(
    "linux.resources.devices",
    `${text(conflict.rule)} after ${text(conflict.over)}: cgroup v1's devices controller cannot make an exception inside a wildcard rule (runc refuses it too); give both rules the same numbers, or run on a cgroup v2 host`,
  );
}
