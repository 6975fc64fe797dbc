// `mycfs run`'s options for how a container lives: in the foreground or detached under a
// supervisor, under which name, with which terminal and stdin. Kept apart from run.ts,
// which is about what runs and from where.
import type { ArgsDef } from "citty";
import { parseLogOpts } from "../container/log-file";
import type { Lifecycle } from "../container/start";
import type { IoMode } from "../container/stdio";
import { MycfsError } from "../errors";
import { isatty } from "../native/lib";
import { list, str, type Values } from "./argv";

/** -i, -t and -T, which `exec` takes too. */
export const terminalArgs = {
  interactive: { type: "boolean", alias: "i", description: "keep stdin open and pass it on (run: default at a terminal)" },
  tty: { type: "boolean", alias: "t", description: "a terminal of its own (run: default when stdin and stdout are terminals)" },
  "no-tty": { type: "boolean", alias: "T", description: "no terminal, even at one" },
} as const satisfies ArgsDef;

export const lifecycleArgs = {
  ...terminalArgs,
  detach: { type: "boolean", alias: "d", description: "run in the background under a supervisor, print the id (see mycfs ps, logs, exec, stop)" },
  name: { type: "string", valueHint: "NAME", description: "a unique name to refer to the container by, instead of its id" },
  rm: { type: "boolean", description: "remove the container, its record and writable layer, when it exits (else: mycfs ps -a, mycfs rm)" },
  "log-opt": {
    type: "string",
    valueHint: "max-size=N|max-file=N",
    description: "rotation of a detached container's log (default max-size=10m, max-file=3; repeatable)",
  },
} as const satisfies ArgsDef;

export const repeatableLifecycleArgs = ["log-opt"];

/** Docker's names: a letter or digit, then letters, digits, '_', '.', '-'. */
function validName(name: string): string {
  if (!/^[a-zA-Z0-9][a-zA-Z0-9_.-]{0,127}$/.test(name) || /^[0-9a-f]{64}$/.test(name))
    throw new MycfsError(`--name ${name}: use letters, digits, '_', '.' or '-', starting with a letter or digit (and not a 64-digit id)`);
  return name;
}

/** -t, -T and -i; `atTerminal`: whether a terminal on stdin and stdout means -it. */
export function terminalMode(v: Values, atTerminal: boolean): IoMode {
  const tty = v["no-tty"] === true ? false : v.tty === true || (atTerminal && isatty(0) && isatty(1));
  const interactive = v.interactive === true || (tty && atTerminal && isatty(0));
  if (tty && interactive && !isatty(0)) throw new MycfsError("-i with -t needs a terminal on stdin, and stdin is not one: drop -t to pipe input in");
  return { tty, interactive };
}

export function resolveLifecycle(v: Values): Lifecycle {
  const detach = v.detach === true;
  if (detach && (v.tty === true || v.interactive === true))
    throw new MycfsError("-d cannot be combined with -i or -t: a detached container has no terminal to attach to; use mycfs exec -it ID sh to get one");
  const name = str(v.name);
  return {
    ...terminalMode(v, !detach),
    detach,
    name: name === undefined ? undefined : validName(name),
    autoRemove: v.rm === true,
    log: parseLogOpts(list(v["log-opt"])),
  };
}
