// Docker-style option parsing over a citty args definition: options come first and stop
// at the first positional, so `mycfs run img sh -c 'ls -l'` leaves `-c` to the command.
// Unknown flags are errors, not silently ignored; repeatable options collect arrays.
import type { ArgsDef } from "citty";
import { MycfsError } from "../errors";

export class HelpRequested extends Error {}

export type Values = Record<string, string | boolean | string[] | undefined>;

export interface Parsed {
  values: Values;
  /** Everything from the first positional on, untouched. */
  positionals: string[];
  /** A `--` came before any positional. */
  dashDash: boolean;
}

export function parseOptions(command: string, def: ArgsDef, input: string[], repeatable: ReadonlySet<string> = new Set()): Parsed {
  const argv = [...input];
  const byName = new Map<string, string>();
  for (const [key, d] of Object.entries(def)) {
    if (d.type === "positional") continue;
    byName.set(key, key);
    for (const a of ["alias" in d ? (d.alias ?? []) : []].flat()) byName.set(a, key);
  }
  const values: Values = {};
  for (const [key, d] of Object.entries(def)) if (d.type !== "positional" && d.default !== undefined) values[key] = d.default as string | boolean;

  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") return { values, positionals: argv.slice(i + 1), dashDash: true };
    if (!arg.startsWith("-") || arg === "-") return { values, positionals: argv.slice(i), dashDash: false };
    const long = arg.startsWith("--");
    const eq = arg.indexOf("=");
    const name = long ? arg.slice(2, eq < 0 ? undefined : eq) : arg.slice(1, 2);
    let inline = long ? (eq < 0 ? undefined : arg.slice(eq + 1)) : arg.length > 2 ? arg.slice(2) : undefined;
    const key = byName.get(name);
    if (key === undefined) {
      if (name === "help" || name === "h") throw new HelpRequested();
      throw new MycfsError(`unknown flag '${arg}' for 'mycfs ${command}'; see 'mycfs ${command} --help'`);
    }
    const d = def[key]!;
    if (d.type === "boolean") {
      // short flags together: -it is -i -t
      if (!long && inline !== undefined) {
        values[key] = true;
        argv.splice(i + 1, 0, `-${inline}`);
        continue;
      }
      if (inline !== undefined && !["true", "false"].includes(inline)) throw new MycfsError(`flag '${arg}' takes no value (or =true/=false)`);
      values[key] = inline !== "false";
      continue;
    }
    if (!long && inline?.startsWith("=")) inline = inline.slice(1); // -e=FOO=bar
    const value = inline ?? argv[++i];
    if (value === undefined) throw new MycfsError(`flag '${arg}' needs a value; see 'mycfs ${command} --help'`);
    if (repeatable.has(key)) values[key] = [...((values[key] as string[] | undefined) ?? []), value];
    else values[key] = value;
  }
  return { values, positionals: [], dashDash: false };
}

export const list = (v: Values[string]): string[] => (Array.isArray(v) ? v : typeof v === "string" ? [v] : []);
export const str = (v: Values[string]): string | undefined => (typeof v === "string" ? v : undefined);
