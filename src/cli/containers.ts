// What the commands that act on existing containers share: their options, and the state
// directory and store they read, with stale state recovered first (state/recover.ts).
import type { ArgsDef } from "citty";
import { MycfsError } from "../errors";
import { Store } from "../images/store";
import { StateDir } from "../state/dir";
import { loadAll, loadOne } from "../state/recover";
import type { ContainerState } from "../state/record";
import { str, type Values } from "./argv";
import { storeArgs } from "./common";

export const containerArgs = { ...storeArgs } as const satisfies ArgsDef;

/** For --help: the containers a command takes. */
export const containersPositional = {
  container: { type: "positional", valueHint: "ID|NAME...", description: "containers, by name, id or unique id prefix" },
} as const satisfies ArgsDef;
export const containerPositional = {
  container: { type: "positional", valueHint: "ID|NAME", description: "a container, by name, id or unique id prefix" },
} as const satisfies ArgsDef;

export function stateDir(v: Values): StateDir {
  return new StateDir(str(v.state));
}

/** Every container, after recovering stale ones and sweeping the store of orphans. */
export function allContainers(v: Values): ContainerState[] {
  return loadAll(stateDir(v), new Store(str(v.root)));
}

/** One container by name, id or unique id prefix, after recovery. */
export function oneContainer(v: Values, ref: string): ContainerState {
  return loadOne(stateDir(v), ref);
}

/** The one positional a command needs, or a usage error. */
export function needArgs(command: string, positionals: string[], what: string, min = 1): string[] {
  if (positionals.length < min) throw new MycfsError(`'mycfs ${command}' needs ${what}; see 'mycfs ${command} --help'`);
  return positionals;
}
