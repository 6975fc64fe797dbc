import { defineCommand } from "citty";
import { buildPlan } from "../container/plan";
import { runContainer, StepFailed } from "../container/run";
import { describePlan } from "../plan/describe";
import { buildEnv, containerPath, parseTmpfs, parseVolume, readEnvFile, validHostname } from "../container/options";
import { directoryRootfs, imageRootfs, type Rootfs } from "../container/rootfs";
import { EMBEDDED } from "../images/embedded";
import { ensureImage, PULL_POLICIES, type PullPolicy } from "../images/ensure";
import { Store } from "../images/store";
import { MycfsError } from "../errors";
import { debugging, log, setDebug } from "../log";
import { errnoMessage, isatty } from "../native/lib";
import { list, parseOptions, str } from "./argv";
import { pullArgs, pullOptions, storeArgs } from "./common";

const args = {
  ...storeArgs,
  ...pullArgs,
  pull: { type: "string", valueHint: "WHEN", description: "pull the image: missing (default), always (if newer), never" },
  rm: { type: "boolean", description: "remove the container's writable layer when it ends (else it is kept)" },
  "read-only": { type: "boolean", description: "make the container's root file system read-only (/tmp stays writable)" },
  rootfs: { type: "string", valueHint: "DIR", description: "use this root file system directory instead of an image" },
  hostname: { type: "string", valueHint: "NAME", description: "the container's host name (default: its short id)" },
  env: { type: "string", alias: "e", valueHint: "KEY=VAL", description: "set an environment variable (repeatable)" },
  "env-file": { type: "string", valueHint: "FILE", description: "read KEY=VAL lines from a file (repeatable)" },
  workdir: { type: "string", alias: "w", valueHint: "DIR", description: "working directory inside the container (default /)" },
  volume: { type: "string", alias: "v", valueHint: "HOST:CTR[:ro]", description: "bind mount a host path (repeatable)" },
  tmpfs: { type: "string", valueHint: "PATH[:OPTS]", description: "mount a tmpfs, e.g. /run:size=64m (repeatable)" },
  init: { type: "boolean", description: "run a tiny init as PID 1 that forwards signals and reaps zombies" },
  "no-pivot": { type: "boolean", description: "move the root and chroot instead of pivot_root (for roots on initramfs; weaker)" },
  "dry-run": { type: "boolean", description: "print the setup plan, step by step, instead of running it" },
} as const;

function randomHex(bytes: number): string {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(bytes))).toString("hex");
}

const repeatable = new Set(["env", "env-file", "volume", "tmpfs"]);

export default defineCommand({
  meta: { name: "run", description: `Run a command in a new container. IMAGE defaults to the embedded ${EMBEDDED.name}; CMD to /bin/sh.` },
  args: {
    ...args,
    image: { type: "positional", required: false, valueHint: "IMAGE", description: `image name (default ${EMBEDDED.name})` },
    cmd: { type: "positional", required: false, valueHint: "[--] CMD ARGS...", description: "command to run (default /bin/sh)" },
  },
  async run({ rawArgs }) {
    const { values: v, positionals, dashDash } = parseOptions("run", args, rawArgs, repeatable);
    setDebug(v.debug === true);
    const rootfsDir = str(v.rootfs);
    let image: string | undefined;
    let cmd = positionals;
    if (!rootfsDir && !dashDash && cmd.length > 0) [image, ...cmd] = cmd;
    if (cmd[0] === "--") cmd = cmd.slice(1);
    if (rootfsDir && image) throw new MycfsError(`give either --rootfs or an image, not both`);
    const policy = (str(v.pull) ?? "missing") as PullPolicy;
    if (!PULL_POLICIES.includes(policy)) throw new MycfsError(`--pull ${v.pull}: expected ${PULL_POLICIES.join(", ")}`);

    // Validate everything before anything is created on disk.
    const id = randomHex(32);
    const hostname = validHostname(str(v.hostname) ?? id.slice(0, 12));
    const volumes = list(v.volume).map(parseVolume);
    const tmpfs = list(v.tmpfs).map(parseTmpfs);
    const workdir = containerPath(str(v.workdir) ?? "/", "-w");
    const term = isatty(0) ? (process.env.TERM ?? "xterm") : "dumb";
    const envFiles = await Promise.all(list(v["env-file"]).map(readEnvFile));
    const env = buildEnv({ hostname, term, env: list(v.env), envFiles });
    if (process.getuid?.() !== 0)
      throw new MycfsError("mycfs run needs root for now: run it with sudo (rootless mode is not there yet)");
    const opts = pullOptions(v);
    let rootfs: Rootfs;
    if (rootfsDir) rootfs = directoryRootfs(rootfsDir);
    else {
      const store = new Store(str(v.root));
      const keep = !v.rm;
      rootfs = await imageRootfs(store, await ensureImage(store, image ?? EMBEDDED.name, policy, opts), id, keep);
    }
    const config = { rootfs, argv: cmd.length ? cmd : ["/bin/sh"], env, hostname, workdir, volumes, tmpfs,
      pivot: !v["no-pivot"], init: v.init === true, readOnly: v["read-only"] === true };
    if (v["dry-run"]) {
      rootfs.cleanup(false);
      return void console.log(describePlan(buildPlan(config, { fds: [-1, -1, -1], ctty: false })));
    }
    if (v["no-pivot"]) log.warn("--no-pivot: chroot is weaker than pivot_root; a process with CAP_SYS_CHROOT can escape it");
    let ran = false;
    try {
      process.exitCode = await runContainer(config, v.debug === true).catch((e) => {
        // overlayfs cannot be mounted here (no module, or the store is on a file system
        // it cannot use as an upper layer): start again on a copy of the image
        if (!(e instanceof StepFailed && e.op === rootfs.ops[0] && rootfs.fallback)) throw e;
        if (debugging) log.debug(`overlayfs cannot be mounted here (${errnoMessage(e.errno)}): copying the image instead`);
        config.rootfs = rootfs = rootfs.fallback();
        return runContainer(config, v.debug === true);
      });
      ran = true;
    } finally {
      rootfs.cleanup(ran);
    }
  },
});
