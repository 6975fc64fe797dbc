// --ulimit NAME=SOFT[:HARD], set in the child before exec.
import { MycfsError } from "../errors";

/** Resource numbers (sys/resource.h), by docker's names. */
export const RLIMITS: Record<string, number> = {
  cpu: 0,
  fsize: 1,
  data: 2,
  stack: 3,
  core: 4,
  rss: 5,
  nproc: 6,
  nofile: 7,
  memlock: 8,
  as: 9,
  locks: 10,
  sigpending: 11,
  msgqueue: 12,
  nice: 13,
  rtprio: 14,
  rttime: 15,
};

export interface Rlimit {
  name: string;
  resource: number;
  /** -1 is unlimited */
  soft: number;
  hard: number;
}

/** Docker's effective default today: 1024 open files (select() cannot see fds above it),
 * and a hard limit of 524288 for programs that raise their own. The hard limit is capped at
 * mycfs's own, since raising it needs CAP_SYS_RESOURCE, which not every host grants. */
export function defaultUlimits(currentHard: number): string[] {
  const hard = currentHard === -1 ? 524288 : Math.min(524288, currentHard);
  return [`nofile=${Math.min(1024, hard)}:${hard}`];
}

function limitValue(v: string, spec: string): number {
  if (v === "unlimited" || v === "-1") return -1;
  if (!/^\d+$/.test(v) || !Number.isSafeInteger(Number(v))) throw new MycfsError(`--ulimit ${spec}: '${v}' is not a number (or unlimited)`);
  return Number(v);
}

export function parseUlimit(spec: string): Rlimit {
  const m = /^([a-z]+)=([^:]+)(?::([^:]+))?$/.exec(spec);
  if (!m) throw new MycfsError(`--ulimit ${spec}: expected NAME=SOFT[:HARD], e.g. nofile=1024:2048`);
  const [, name, softText, hardText] = m as unknown as [string, string, string, string | undefined];
  const resource = RLIMITS[name];
  if (resource === undefined) throw new MycfsError(`--ulimit ${spec}: unknown limit '${name}' (known: ${Object.keys(RLIMITS).join(", ")})`);
  const soft = limitValue(softText, spec);
  const hard = hardText === undefined ? soft : limitValue(hardText, spec);
  if (hard !== -1 && (soft === -1 || soft > hard)) throw new MycfsError(`--ulimit ${spec}: the soft limit is above the hard one`);
  return { name, resource, soft, hard };
}

/** The defaults, overridden name by name by the user's --ulimit flags. */
export function resolveUlimits(specs: string[], defaults: string[]): Rlimit[] {
  const byName = new Map<string, Rlimit>();
  for (const s of [...defaults, ...specs]) {
    const l = parseUlimit(s);
    byName.set(l.name, l);
  }
  return [...byName.values()];
}
