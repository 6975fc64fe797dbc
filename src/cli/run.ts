import { defineCommand } from "citty";
import { cgroupName, ContainerCgroup, hostCgroupFs, readLayout } from "../cgroups/cgroup";
import type { Layout } from "../cgroups/layout";
import { limitFlags, type Limits } from "../cgroups/limits";
import type { DeviceRule } from "../cgroups/devices";
import { idmapRefusal, shiftedCopy } from "../container/idmap";
import { containerUserns, hostRoot } from "../container/userns";
import { hostRootWithoutParent } from "../container/initramfs";
import { seccompFilter } from "../seccomp/select";
import { describePlan } from "../plan/describe";
import { buildEnv, checkTargetsIn, containerPath, parseTmpfs, parseVolume, readEnvFile, userEnv, validHostname } from "../container/options";
import { directoryRootfs, imageRootfs, openRootfsDir, type Owner, type Rootfs } from "../container/rootfs";
import { applyConfig } from "../container/image-config";
import { signalNumber } from "../container/control";
import { type Accounts, checkMapped, checkOneId, readAccounts, resolveUser } from "../container/user";
import { withLayers } from "../images/read-file";
import { EMBEDDED } from "../images/embedded";
import { ensureImage, PULL_POLICIES, type PullPolicy } from "../images/ensure";
import { type ImageRecord, Store } from "../images/store";
import { MycfsError, SysError } from "../errors";
import { E } from "../errno";
import { log, setDebug } from "../log";
import { list, parseOptions, str } from "./argv";
import { pullArgs, pullOptions, storeArgs } from "./common";
import { repeatableResourceArgs, resolveResources, resourceArgs } from "./resource-args";
import { lifecycleArgs, repeatableLifecycleArgs, resolveLifecycle } from "./lifecycle-args";
import { isSupervisor, launchSupervisor } from "../container/supervisor";
import { startContainer } from "../container/start";
import { specFromFlags } from "../spec/from-flags";
import { close, errnoMessage, randomHex } from "../native/lib";
import { StateDir } from "../state/dir";
import { networkArgs, repeatableNetworkArgs, resolveNetwork, withNetwork } from "./network-args";
import { exposedPorts } from "../network/ports";

const args = {
  ...storeArgs,
  ...pullArgs,
  pull: { type: "string", valueHint: "WHEN", description: "pull the image: missing (default), always (if newer), never" },
  "read-only": { type: "boolean", description: "make the container's root file system read-only (/tmp stays writable)" },
  rootfs: { type: "string", valueHint: "DIR", description: "use this root file system directory instead of an image" },
  hostname: { type: "string", valueHint: "NAME", description: "the container's host name (default: its short id)" },
  env: { type: "string", alias: "e", valueHint: "KEY=VAL", description: "set an environment variable (repeatable)" },
  "env-file": { type: "string", valueHint: "FILE", description: "read KEY=VAL lines from a file (repeatable)" },
  workdir: { type: "string", alias: "w", valueHint: "DIR", description: "working directory inside the container (default: the image's, or /)" },
  user: { type: "string", alias: "u", valueHint: "NAME|UID[:GROUP|GID]", description: "the user to run as (default: the image's, or root)" },
  "group-add": { type: "string", valueHint: "NAME|GID", description: "a supplementary group beside the user's own (repeatable)" },
  entrypoint: { type: "string", valueHint: "CMD", description: 'run this instead of the image\'s entrypoint, without its command ("": none)' },
  "stop-signal": { type: "string", valueHint: "SIGNAL", description: "what mycfs stop sends first (default: the image's, or SIGTERM)" },
  volume: { type: "string", alias: "v", valueHint: "HOST:CTR[:ro]", description: "bind mount a host path (repeatable)" },
  tmpfs: { type: "string", valueHint: "PATH[:OPTS]", description: "mount a tmpfs, e.g. /run:size=64m (repeatable)" },
  init: { type: "boolean", description: "run a tiny init as PID 1 that forwards signals and reaps zombies" },
  "no-pivot": { type: "boolean", description: "move the root and chroot instead of pivot_root (weaker; warns)" },
  "dry-run": { type: "boolean", description: "print the setup plan, step by step, instead of running it" },
  ...resourceArgs,
  ...lifecycleArgs,
  ...networkArgs,
} as const;

/** The container's cgroup, which enforces its device rules. Rootless, a cgroup is made
 * only for limits, and only where the caller may: a cgroup v2 subtree delegated to them
 * (systemd's Delegate=yes). Either way rootless gets no device rules: attaching the BPF
 * program needs CAP_SYS_ADMIN (or CAP_BPF) in the initial user namespace, which a user
 * lacks, and the user namespace limits devices itself: mknod is refused in it, and a
 * host node bound in (the defaults, --device) keeps the host's permissions. */
const ROOTLESS_LIMITS =
  "resource limits without root need a cgroup v2 subtree delegated to you (run mycfs under `systemd-run --user --scope -p Delegate=yes`), or run without limits";

/** Where no cgroup can be made (a read-only /sys/fs/cgroup inside a container, a v2 tree
 * not delegated to a rootless user), a container that asked for no limit runs without one,
 * with one warning, as one that asked for limits cannot: its error names them, the path
 * and the errno. Rootless, a cgroup is made only for limits. */
function planCgroup(layout: Layout, name: string, limits: Limits, rootless: boolean, devices: readonly DeviceRule[]): ContainerCgroup | undefined {
  const asked = limitFlags(limits);
  if (rootless && asked.length === 0) return undefined;
  const cgroup = ContainerCgroup.plan(hostCgroupFs, layout, name, limits, rootless ? [] : devices);
  const blocked = cgroup.unwritable();
  if (!blocked) return cgroup;
  const where = `${blocked.path}: ${errnoMessage(blocked.errno)}`;
  if (asked.length)
    throw new MycfsError(
      `${asked.join(", ")}: the container's cgroup cannot be made in ${where}; ${rootless ? ROOTLESS_LIMITS : "run without limits, or where the cgroup tree is writable (inside a container: --privileged)"}`,
    );
  log.warn(`the container's cgroup cannot be made in ${where}: it runs without one (no accounting, no OOM report, no device allow-list)`);
  return undefined;
}

function createCgroup(cgroup: ContainerCgroup | undefined, rootless: boolean) {
  try {
    cgroup?.create();
  } catch (e) {
    if (!rootless || !(e instanceof SysError) || !([E.EACCES, E.EPERM, E.EROFS] as number[]).includes(e.errno)) throw e;
    throw new MycfsError(ROOTLESS_LIMITS, undefined, e);
  }
}

/** The image under the container's overlay; in root's user namespace, its layers
 * id-mapped where the kernel and file system can, else copies owned by the namespace's root. */
async function containerRoot(store: Store, image: ImageRecord, id: string, keep: boolean, userns: boolean, owner?: Owner): Promise<Rootfs> {
  const layers = store.layerDirs(image);
  const refusal = owner && idmapRefusal(layers[0]!);
  const shifted = owner && refusal ? await Promise.all(layers.map((l) => shiftedCopy(store, l, owner, refusal))) : undefined;
  return imageRootfs(store, image, id, { keep, userns, owner, shifted });
}

/** The account files that name the container's users: its image's, from its layers, or
 * those of --rootfs's directory. */
function accounts(store: Store | undefined, image: ImageRecord | undefined, rootfsDir: string | undefined): Accounts {
  if (!rootfsDir) return withLayers(store!.layerDirs(image!), (fds) => readAccounts(fds, "the image's"));
  const fd = openRootfsDir(rootfsDir);
  try {
    return readAccounts([fd], "the root file system's");
  } finally {
    close(fd);
  }
}

const repeatable = new Set([
  "env",
  "env-file",
  "volume",
  "tmpfs",
  "group-add",
  ...repeatableResourceArgs,
  ...repeatableLifecycleArgs,
  ...repeatableNetworkArgs,
]);

export default defineCommand({
  meta: {
    name: "run",
    description: `Run a command in a new container. IMAGE defaults to the embedded ${EMBEDDED.name}; CMD to the image's (${EMBEDDED.name}: /bin/sh).`,
  },
  args: {
    ...args,
    image: { type: "positional", required: false, valueHint: "IMAGE", description: `image name (default ${EMBEDDED.name})` },
    cmd: {
      type: "positional",
      required: false,
      valueHint: "[--] CMD ARGS...",
      description: "command to run after the image's entrypoint (default: the image's, or /bin/sh)",
    },
  },
  async run({ rawArgs }) {
    const { values: v, positionals, dashDash } = parseOptions("run", args, rawArgs, repeatable);
    setDebug(v.debug === true);
    const lifecycle = resolveLifecycle(v);
    const dryRun = v["dry-run"] === true;
    if (lifecycle.detach && !isSupervisor() && !dryRun) return void (process.exitCode = await launchSupervisor(rawArgs));
    const rootfsDir = str(v.rootfs);
    let image: string | undefined;
    let cmd = positionals;
    if (!rootfsDir && !dashDash && cmd.length > 0) [image, ...cmd] = cmd;
    if (cmd[0] === "--") cmd = cmd.slice(1);
    if (rootfsDir && image) throw new MycfsError(`give either --rootfs or an image, not both`);
    const asked = (str(v.pull) ?? "missing") as PullPolicy;
    if (!PULL_POLICIES.includes(asked)) throw new MycfsError(`--pull ${v.pull}: expected ${PULL_POLICIES.join(", ")}`);
    const policy = dryRun ? "never" : asked; // a dry run reads the store, never the network

    // Validate everything before anything is created on disk.
    const id = randomHex(32);
    const hostname = validHostname(str(v.hostname) ?? id.slice(0, 12));
    const volumes = list(v.volume).map(parseVolume);
    const tmpfs = list(v.tmpfs).map(parseTmpfs);
    const workdir = str(v.workdir);
    const cwd = workdir === undefined ? undefined : containerPath(workdir, "-w");
    const stopSignal = str(v["stop-signal"]);
    const stopFlag = stopSignal === undefined ? undefined : signalNumber(stopSignal, "--stop-signal");
    const term = lifecycle.tty ? (process.env.TERM ?? "xterm") : "dumb";
    const setEnv = userEnv(list(v.env), await Promise.all(list(v["env-file"]).map(readEnvFile)));
    const groupAdd = list(v["group-add"]);
    const resources = resolveResources(v);
    const { limits, rlimits, privileges, cgroupns, devices } = resources;
    const userns = containerUserns(resources.userns);
    // root's namespace: the image is id-mapped onto the range; rootless: the caller's own
    // files already are root's in the namespace
    const owner = userns && !userns.rootless ? hostRoot(userns) : undefined;
    const rootless = userns?.rootless !== undefined;
    const network = resolveNetwork(v, hostname, userns);
    const layout = readLayout(hostCgroupFs);
    const rootWithoutParent = !v["no-pivot"] && hostRootWithoutParent();
    const flags = {
      hostname,
      volumes,
      tmpfs,
      pivot: !v["no-pivot"],
      init: v.init === true,
      readOnly: v["read-only"] === true,
      rlimits,
      privileges,
      seccomp: await seccompFilter(privileges.seccomp, privileges.caps),
      devices: devices.nodes,
      cgroupns,
      userns,
    };
    const cgroup = planCgroup(layout, cgroupName(id), limits, rootless, devices.rules);
    // --privileged: writable, as docker mounts them, so that a runtime can run inside
    const cgroups = { join: cgroup?.joinOps() ?? [], binds: cgroup?.binds(!cgroupns) ?? [], v2Only: layout.mode === "v2", writable: v.privileged === true };
    if (v["no-pivot"]) log.warn("--no-pivot: chroot is weaker than pivot_root; a process with CAP_SYS_CHROOT can escape it");
    if (rootWithoutParent) log.info("the host's root is an initramfs, which pivot_root cannot leave: pivoting from a copy of its mount tree instead");
    if (v.privileged) log.warn("--privileged: every capability, no seccomp filter, no masked paths; the container can take over the host");

    const store = rootfsDir ? undefined : new Store(str(v.root));
    const imageRecord = store && (await ensureImage(store, image ?? EMBEDDED.name, policy, pullOptions(v), dryRun ? "a dry run pulls nothing" : undefined));
    if (volumes.length || tmpfs.length) checkTargetsIn(rootfsDir ? [rootfsDir] : store!.layerDirs(imageRecord!), volumes, tmpfs);
    const what = rootfsDir ? `--rootfs ${rootfsDir}` : (image ?? EMBEDDED.name);
    const config = imageRecord?.config ?? {};
    const applied = applyConfig(config, what, { entrypoint: str(v.entrypoint), cmd, workdir: cwd, user: str(v.user), stopSignal: stopFlag });
    const user = resolveUser(applied.user.spec, groupAdd, accounts(store, imageRecord, rootfsDir), applied.user.what);
    const state = new StateDir(str(v.state));
    process.exitCode = await withNetwork(network, state, (net) => {
      const spec = specFromFlags({
        ...flags,
        argv: applied.argv,
        env: buildEnv({ hostname, term, image: config.Env ?? [], user: setEnv }),
        workdir: applied.cwd,
        user,
        netns: net.netns,
        etcDir: state.dir(id),
      });
      if (userns?.rootless === "own-id") checkOneId(user, groupAdd, applied.user.what);
      else if (userns) checkMapped(user, spec.linux.uidMappings, spec.linux.gidMappings, applied.user.what);
      return startContainer({
        id,
        image: what,
        spec,
        stopSignal: applied.stopSignal,
        groupAdd,
        userns,
        // -P: the image's exposed ports, known only now
        network:
          (net.record.mode === "bridge" || net.record.mode === "pasta") && network.publishAll
            ? { ...net.record, ports: [...net.record.ports, ...exposedPorts(config.ExposedPorts)] }
            : net.record,
        etcFiles: network.etcFiles,
        lifecycle,
        stateDir: state.root,
        storeDir: store?.container(id),
        debug: v.debug === true,
        cgroup,
        host: {
          cgroups,
          rootWithoutParent,
          dropGroups: userns?.rootless !== "own-id", // own-id: setgroups is denied
          ...(net.fd === undefined ? {} : { joined: { network: { fd: net.fd } } }),
        },
        createCgroup: () => createCgroup(cgroup, rootless),
        dryRun: dryRun ? (plan) => console.log(describePlan(plan)) : undefined,
        rootfs: () =>
          rootfsDir ? directoryRootfs(rootfsDir, owner) : containerRoot(store!, imageRecord!, id, !lifecycle.autoRemove, userns !== undefined, owner),
      });
    });
  },
});
