// The command line: thin commands over the library, loaded lazily so that `mycfs run`
// pays only for what it uses. Errors print as one line and set docker's exit codes.
import { defineCommand, showUsage, type CommandDef, type ParsedArgs } from "citty";
import pkg from "../../package.json";
import { EXIT_MYCFS, MycfsError } from "../errors";
import { log } from "../log";
import { HelpRequested } from "./argv";
import { isOciCommandLine } from "./oci-select";

/** A command file, loaded only when its command is run. */
const lazy = (load: () => Promise<{ default: unknown }>) => () => load().then((m) => m.default as CommandDef);

const commands: Record<string, () => Promise<CommandDef>> = {
  run: lazy(() => import("./run")),
  pull: lazy(() => import("./pull")),
  login: lazy(() => import("./login")),
  logout: lazy(() => import("./logout")),
  images: lazy(() => import("./images")),
  rmi: lazy(() => import("./rmi")),
  import: lazy(() => import("./import")),
  save: lazy(() => import("./save")),
  exec: lazy(() => import("./exec")),
  ps: lazy(() => import("./ps")),
  inspect: lazy(() => import("./inspect")),
  logs: lazy(() => import("./logs")),
  top: lazy(() => import("./top")),
  stop: lazy(() => import("./stop")),
  kill: lazy(() => import("./kill")),
  wait: lazy(() => import("./wait")),
  rm: lazy(() => import("./rm")),
  network: lazy(() => import("./network")),
  version: lazy(() => import("./version")),
};

const root = defineCommand({
  meta: {
    name: "mycfs",
    version: pkg.version,
    // runc's commands are parsed by cli/oci.ts, not citty: named here so that help shows them
    description:
      "containers from scratch, in one file. As an OCI runtime (podman, containerd) it takes runc's command line: create, start, run --bundle, state, kill, delete, exec, ps, pause, resume, update, list, spec, features",
  },
  subCommands: commands,
});

export async function main(argv: string[]): Promise<void> {
  // the kernel started mycfs as a VM's init: its arguments are the command line to run
  if (process.pid === 1) {
    const vm = await import("../vm/init");
    if (vm.isMachineInit()) return void (await vm.machineInit(argv));
  }
  const [name, ...rest] = argv;
  // runc's command line (an engine's call): see oci-select.ts
  if (isOciCommandLine(argv)) return void (await (await import("./oci")).ociMain(argv));
  let cmd: CommandDef | undefined;
  try {
    if (name === undefined || name === "--help" || name === "-h" || name === "help") return void (await showUsage(root));
    if (name === "--version" || name === "-v") {
      const { versionInfo, versionLine } = await import("./version");
      return void console.log(versionLine(await versionInfo()));
    }
    const load = commands[name];
    if (!load) throw new MycfsError(`unknown command '${name}'; see 'mycfs --help'`);
    cmd = await load();
    // Each command parses its own options (cli/argv.ts, docker's rules), so citty's
    // generic parse in runCommand would be wasted time on every container start.
    await cmd.run?.({ rawArgs: rest, args: { _: [] } as unknown as ParsedArgs, cmd });
  } catch (e) {
    if (e instanceof HelpRequested && cmd) return void (await showUsage(cmd, root));
    if (e instanceof MycfsError) {
      log.error(e.message);
      // --debug: what it wraps, down to the failed call
      for (let c = e.cause; c instanceof Error && log.level >= 4; c = c.cause) log.debug(`caused by: ${c.message}`);
    } else log.error(log.level >= 4 ? e : `internal error: ${(e as Error)?.message ?? e}`);
    process.exitCode = e instanceof MycfsError ? e.exitCode : EXIT_MYCFS;
  }
}
