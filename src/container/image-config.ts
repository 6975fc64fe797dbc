// An image's config under `mycfs run`'s flags, as docker applies it: the command from its
// Entrypoint and Cmd, its working directory, its user and its stop signal (its Env:
// options.ts buildEnv). A flag given wins over the image.
import { MycfsError } from "../errors";
import type { ImageConfig } from "../images/config";
import { signalNumber } from "./control";
import { command, containerPath } from "./options";

/** The flags of run that an image's config gives defaults for. */
export interface ConfigFlags {
  /** --entrypoint: replaces the image's Entrypoint ("" clears it). */
  entrypoint?: string;
  /** The command on the line: replaces the image's Cmd. */
  cmd: string[];
  /** -w, checked. */
  workdir?: string;
  user?: string;
  /** --stop-signal, as a number. */
  stopSignal?: number;
}

export interface Applied {
  argv: string[];
  cwd: string;
  /** NAME|UID[:GROUP|GID], and where it came from, for messages. */
  user: { spec: string; what: string };
  stopSignal: number;
}

/** Docker's rules: --entrypoint replaces the Entrypoint and drops the image's Cmd with it;
 * a command on the line replaces Cmd. An image without a config (the embedded busybox, a
 * minirootfs, a tarball) runs a shell by default, as mycfs always has. */
function args(config: ImageConfig, image: string, f: ConfigFlags): string[] {
  const entrypoint = f.entrypoint === undefined ? (config.Entrypoint ?? []) : f.entrypoint === "" ? [] : [f.entrypoint];
  const argv = [...entrypoint, ...(f.cmd.length > 0 || f.entrypoint !== undefined ? f.cmd : (config.Cmd ?? []))];
  if (argv.length > 0) return command(argv, `mycfs run ${image} sh`);
  if (f.entrypoint === undefined && Object.keys(config).length === 0) return ["/bin/sh"];
  const why = f.entrypoint === undefined ? "its config sets no Entrypoint and no Cmd" : `--entrypoint "" cleared its Entrypoint`;
  throw new MycfsError(`${image}: no command to run (${why}); give one after the image: mycfs run ${image} CMD`);
}

export function applyConfig(config: ImageConfig, image: string, f: ConfigFlags): Applied {
  return {
    argv: args(config, image, f),
    cwd: f.workdir ?? containerPath(config.WorkingDir || "/", `${image}: the image's WorkingDir`),
    user:
      f.user === undefined
        ? { spec: config.User ?? "", what: `${image}: the image's User ${config.User ?? "(root)"}` }
        : { spec: f.user, what: `-u ${f.user}` },
    stopSignal: f.stopSignal ?? (config.StopSignal ? signalNumber(config.StopSignal, `${image}: the image's StopSignal`) : 15),
  };
}
