// A container from start to end, in the foreground or under a supervisor (run -d): its
// record in the state directory, its cgroup, its root, its stdio, and the cleanup after.
import type { ContainerCgroup } from "../cgroups/cgroup";
import { debugging, log } from "../log";
import { errnoMessage } from "../native/lib";
import { StateDir } from "../state/dir";
import { claimStoreDir } from "../state/recover";
import { Registration } from "../state/registration";
import { type LogOpts, logIo } from "./log-file";
import { buildPlan, clonesNetwork, type HostFacts } from "./plan";
import type { ContainerSpec } from "../spec/spec";
import type { Userns } from "./userns";
import type { Step } from "../plan/ops";
import type { Rootfs } from "./rootfs";
import { runContainer, StepFailed } from "./run";
import { type IoMode, openIo } from "./stdio";
import { detachFromCaller } from "./supervisor";
import { HostEffects } from "./effects";
import type { BridgeRequest, NetworkRecord } from "../network/mode";
import { type Attachment, attachContainer, leaseBridge, retireBridge } from "../network/bridge";
import { claimPorts } from "../network/ports";
import { type Helper, startHelper, type UserNet } from "../network/usernet";
import { type EtcFilesOf, fillHosts, writeEtcFiles } from "../network/files";

/** How a container lives: in the foreground or detached (run -d), its name, --rm, its
 * log's rotation, and its terminal and stdin (cli/lifecycle-args.ts reads them). */
export interface Lifecycle extends IoMode {
  detach: boolean;
  name?: string;
  autoRemove: boolean;
  log: LogOpts;
}

export interface Start {
  id: string;
  /** What it runs, for ps: the image name or `--rootfs DIR`. */
  image: string;
  spec: ContainerSpec;
  /** What its record keeps beyond the spec: what `stop` sends, and --group-add, for exec -u. */
  stopSignal: number;
  groupAdd: string[];
  /** Its network mode, for the record (the bridge's once its address is leased); its /etc
   * files, written into the record's directory (the spec binds them from there) before
   * the child mounts them. */
  network: NetworkRecord | BridgeRequest;
  etcFiles: EtcFilesOf;
  /** With a user namespace in the spec: how mycfs writes its maps. */
  userns?: Userns;
  lifecycle: Lifecycle;
  stateDir?: string;
  /** The container's directory in the store, when its root is an image's overlay. */
  storeDir?: string;
  /** The container's cgroup, planned (none: rootless without limits); createCgroup makes it. */
  cgroup: ContainerCgroup | undefined;
  createCgroup(): void;
  /** What the plan needs of the host, but for the root and what the child waits for. */
  host: Omit<HostFacts, "rootfs" | "prepared">;
  rootfs(): Rootfs | Promise<Rootfs>;
  debug: boolean;
  /** --dry-run: given the plan exactly as it would run, instead of running anything. */
  dryRun?(plan: Step[]): void;
}

/** The record and cgroup are made while the child makes its namespaces and first mounts,
 * unless the child is to be born in a cgroup v2 directory (CLONE_INTO_CGROUP), which must
 * exist by then, or is detached: its output goes to a log in the record's directory. */
const registeredBeforeClone = (cgroup: ContainerCgroup | undefined, detach: boolean) => cgroup?.v2Dir !== undefined || detach;

/** What the child's steps wait for (Sync.PREPARED): what mycfs makes after the clone. */
const madeAfterClone = (early: boolean, layers: boolean): HostFacts["prepared"] => (layers ? "rootfs" : early ? undefined : "cgroup");

/** The host's decisions as the planner takes them, once the root and what the child waits for are known. */
const hostOf = (o: Start, rootfs: Rootfs, prepared: HostFacts["prepared"]): HostFacts => ({
  ...o.host,
  rootfs,
  prepared,
  attach: o.network.mode === "bridge" || o.network.mode === "pasta" || o.network.mode === "slirp4netns" ? o.network.mode : undefined,
});

/** At Sync.NETWORK: the container's pasta or slirp4netns, started for the child `pid`
 * (a first attempt's ended first: start.ts retries on a copy of the image), its process
 * in the record (written now if made already, else when it is). */
function attachHelper(n: UserNet, pid: number, before: Helper | undefined, reg: Registration | undefined): Helper {
  before?.stop();
  const helper = startHelper(n.mode, pid, n.ports);
  n.helper = helper.ref;
  reg?.update({ network: n });
  return helper;
}

export async function startContainer(o: Start): Promise<number> {
  const { spec, lifecycle, cgroup } = o;
  const p = spec.process;
  if (o.dryRun) {
    // the same root, the same decisions; nothing registered, made or run
    const rootfs = await o.rootfs();
    try {
      const prepared = madeAfterClone(registeredBeforeClone(cgroup, lifecycle.detach), rootfs.prepare !== undefined);
      o.dryRun(buildPlan(spec, hostOf(o, rootfs, prepared), { fds: [-1, -1, -1], ctty: lifecycle.tty }));
    } finally {
      rootfs.cleanup(false);
    }
    return 0;
  }
  const state = new StateDir(o.stateDir);
  const effects = new HostEffects();
  let reg: Registration | undefined;
  const asked = o.network;
  let network: NetworkRecord | undefined = asked.mode === "bridge" ? undefined : asked;
  let code: number | undefined;
  let oomKilled = false;
  let ran = false; // the command was exec'd
  // The record first: it claims the name, and should this process die, it tells the next
  // mycfs what to clean up (the cgroup's directories are known from its plan). Then the
  // cgroup: its limits are checked against the host as they are written.
  const register = () => {
    effects.make(
      "the container's record",
      () => {
        reg = Registration.create(state, {
          id: o.id,
          name: lifecycle.name,
          image: o.image,
          command: p.args,
          detached: lifecycle.detach,
          autoRemove: lifecycle.autoRemove,
          cgroup: cgroup && { name: cgroup.name, layout: cgroup.layout },
          storeDir: o.storeDir,
          userns: o.userns && { rootless: o.userns.rootless !== undefined, dropGroups: o.host.dropGroups },
          stopSignal: o.stopSignal,
          network,
          exec: {
            env: p.env,
            workdir: p.cwd,
            user: p.user,
            groupAdd: o.groupAdd,
            rlimits: p.rlimits,
            caps: p.capabilities.bounding,
            noNewPrivs: p.noNewPrivileges,
            seccomp: spec.linux.seccomp?.toBase64() ?? null,
          },
        });
      },
      () => reg!.exited(code, oomKilled),
    );
    // (removed with the record's directory)
    effects.make(
      "the container's /etc/hostname, hosts and resolv.conf",
      () => {
        const files = o.etcFiles();
        // on the bridge, hosts names the addresses leased later (fillHosts)
        writeEtcFiles(state.dir(o.id), asked.mode === "bridge" ? { ...files, hosts: "" } : files);
        // rootless, the namespace's root is the directory's owner
        if (o.userns && !o.userns.rootless) state.reachable(o.id);
      },
      () => {},
    );
    effects.make(
      "the container's cgroup",
      () => o.createCgroup(),
      () => cgroup?.remove(),
    );
  };
  const early = registeredBeforeClone(cgroup, lifecycle.detach);
  try {
    // first: a host port already taken is refused before anything else is made
    const bridgePorts = asked.mode === "bridge" ? await claimPorts(asked.ports) : undefined;
    // pasta's ports likewise (pasta would fail to bind them only once the child waits)
    if (asked.mode === "pasta" && asked.ports.length) network = { ...asked, ports: await claimPorts(asked.ports) };
    const usernet = network?.mode === "pasta" || network?.mode === "slirp4netns" ? network : undefined;
    let helper: Helper | undefined;
    if (usernet) effects.made(`the container's ${usernet.mode} process`, () => helper?.stop());
    if (early) register();
    let rootfs = await o.rootfs();
    // a container keeps its writable layer until `mycfs rm`, unless --rm or it never ran
    effects.made("the container's root", () => rootfs.cleanup(ran));
    const layers = rootfs.prepare;
    const prepared = madeAfterClone(early, layers !== undefined);
    const prepare =
      prepared &&
      (() => {
        if (!early) register();
        layers?.();
        if (o.storeDir) claimStoreDir(o.storeDir, state);
      });
    // each attempt gets its own stdio: a failed one has closed what it was given; a second
    // attempt has everything made already
    // The bridge's address is leased while the child sets up, its /etc/hosts bound already
    // (filled in place); then eth0. A second attempt has its lease.
    let bridged: Attachment | undefined;
    const attachBridge = (pid: number) => {
      if (!bridged) {
        const a = leaseBridge(state.root, o.id, bridgePorts!);
        effects.made("the container's bridge network", () => retireBridge(state.root, o.id, a.ports));
        bridged = a;
        network = { mode: "bridge", ...a };
        fillHosts(state.dir(o.id), o.etcFiles([a.ip, ...(a.ip6 ? [a.ip6.ip] : [])]).hosts);
        reg!.update({ network });
      }
      attachContainer(pid, bridged);
    };
    const run = async (root: Rootfs, prepare?: () => void) => {
      const io = lifecycle.detach ? await logIo(state.logPath(o.id), lifecycle.log) : await openIo(lifecycle);
      const facts = hostOf(o, root, prepare && prepared);
      const plan = buildPlan(spec, facts, io);
      return runContainer(plan, { userns: o.userns, idmap: root.idmap }, cgroup, {
        debug: o.debug,
        io,
        prepare,
        network: bridgePorts
          ? { meanwhile: true, cloned: clonesNetwork(facts), attach: attachBridge }
          : usernet && {
              meanwhile: false,
              cloned: false,
              attach: (pid) => {
                helper = attachHelper(usernet, pid, helper, reg);
              },
            },
        started: (pid) => {
          ran = true;
          reg!.running(pid);
          if (lifecycle.detach) detachFromCaller(o.id);
        },
      });
    };
    code = await run(rootfs, prepare).catch((e) => {
      // overlayfs cannot be mounted here (no module, or the store is on a file system
      // it cannot use as an upper layer): start again on a copy of the image
      const overlay = rootfs.ops.find((s) => s.kind === "mount" && s.fstype === "overlay");
      if (!(e instanceof StepFailed && e.op === overlay && rootfs.fallback)) throw e;
      if (debugging) log.debug(`overlayfs cannot be mounted here (${errnoMessage(e.errno)}): copying the image instead`);
      rootfs = rootfs.fallback();
      return run(rootfs);
    });
    oomKilled = cgroup?.oomKilled() ?? false;
    if (oomKilled) log.error("the container ran out of memory: the kernel's OOM killer ended it (raise --memory)");
  } finally {
    effects.undoAll();
  }
  return code!;
}
