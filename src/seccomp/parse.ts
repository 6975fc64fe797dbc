// Docker's JSON seccomp profile in, a Profile out. A field, action or op we do not know is
// an error that names the file and the place: a security profile must not be read as
// meaning something other than what its author wrote.
import { MycfsError } from "../errors";
import { ACTIONS, OPS, TAKES_ERRNO, type Action, type ArgCondition, type Filter, type Profile, type Rule } from "./profile";

const MAX_ERRNO = 4095;
const U64_MAX = (1n << 64n) - 1n;
/** mycfs needs Linux 5.6 (README): an includes.minKernel up to it always holds. */
const MIN_KERNEL = [5, 6] as const;

// JSON numbers are doubles, exact up to 2^53 only, and argument values are u64: integer
// literals of 16 digits or more are read as strings tagged with BIG, and made bigints.
const BIG = "\u0000";
const exactIntegers = (json: string) => json.replace(/"(?:[^"\\]|\\.)*"|-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?/g, (t) => (/^\d{16,}$/.test(t) ? `"\\u0000${t}"` : t));

type Json = Record<string, unknown>;

class Reader {
  constructor(private readonly source: string) {}

  fail(path: string, what: string): never {
    throw new MycfsError(`seccomp profile ${this.source}: ${path ? `${path}: ` : ""}${what}`);
  }

  /** An object with only `fields`; Go's JSON reader, which Docker uses, takes null as absent. */
  object(v: unknown, path: string, fields: readonly string[]): Json {
    if (typeof v !== "object" || v === null || Array.isArray(v)) this.fail(path, "expected an object");
    for (const key of Object.keys(v)) if (!fields.includes(key)) this.fail(path, `unknown field '${key}' (known: ${fields.join(", ")})`);
    return v as Json;
  }

  array(v: unknown, path: string): unknown[] | undefined {
    if (v == null) return undefined;
    if (!Array.isArray(v)) this.fail(path, "expected an array");
    return v;
  }

  string(v: unknown, path: string, pattern = /^/, what = "a string"): string {
    if (typeof v !== "string" || v.startsWith(BIG) || !pattern.test(v)) this.fail(path, `expected ${what}`);
    return v;
  }

  strings(v: unknown, path: string, pattern?: RegExp, what?: string): string[] | undefined {
    return this.array(v, path)?.map((s, i) => this.string(s, `${path}[${i}]`, pattern, what));
  }

  uint(v: unknown, path: string, max: number): number | undefined {
    if (v == null) return undefined;
    if (typeof v !== "number" || !Number.isInteger(v) || v < 0 || v > max) this.fail(path, `expected an integer from 0 to ${max}`);
    return v;
  }

  u64(v: unknown, path: string): bigint | undefined {
    if (v == null) return undefined;
    if (typeof v === "number" && Number.isSafeInteger(v) && v >= 0) return BigInt(v);
    if (typeof v === "string" && v.startsWith(BIG) && BigInt(v.slice(1)) <= U64_MAX) return BigInt(v.slice(1));
    this.fail(path, `expected an integer from 0 to ${U64_MAX}`);
  }

  oneOf<T extends string>(v: unknown, path: string, known: readonly T[], what: string): T {
    if (v === undefined) this.fail(path, `missing; give one of ${known.join(", ")}`);
    if (!known.includes(v as T)) this.fail(path, `unknown ${what} ${JSON.stringify(v)} (known: ${known.join(", ")})`);
    return v as T;
  }

  errno(v: unknown, path: string, action: Action): number | undefined {
    if (v != null && !TAKES_ERRNO.has(action)) this.fail(path, `only ${[...TAKES_ERRNO].join(" and ")} take an errno, not ${action}`);
    return this.uint(v, path, MAX_ERRNO);
  }
}

/** SCMP_ACT_NOTIFY needs a listener, which only config.json names. */
const DOCKER_ACTIONS = (Object.keys(ACTIONS) as Action[]).filter((a) => a !== "SCMP_ACT_NOTIFY");

export function parseProfile(json: string, source: string): Profile {
  const r = new Reader(source);
  let raw: unknown;
  try {
    raw = JSON.parse(exactIntegers(json));
  } catch (e) {
    r.fail("", `not valid JSON (${(e as Error).message})`);
  }
  const top = r.object(raw, "", ["defaultAction", "defaultErrnoRet", "architectures", "archMap", "syscalls"]);
  const defaultAction = r.oneOf(top.defaultAction, "defaultAction", DOCKER_ACTIONS, "action");
  // architectures and archMap name ABIs to filter besides the native one (i386, x32, arm32),
  // which Docker always filters. mycfs's filter answers the native ABI only and kills the
  // others, so both are checked, then set aside.
  r.strings(top.architectures, "architectures", /^SCMP_ARCH_\w+$/, "an SCMP_ARCH_* name");
  r.array(top.archMap, "archMap")?.forEach((a, i) => {
    const entry = r.object(a, `archMap[${i}]`, ["architecture", "subArchitectures"]);
    r.string(entry.architecture, `archMap[${i}].architecture`, /^SCMP_ARCH_\w+$/, "an SCMP_ARCH_* name");
    r.strings(entry.subArchitectures, `archMap[${i}].subArchitectures`, /^SCMP_ARCH_\w+$/, "an SCMP_ARCH_* name");
  });
  if (top.architectures != null && top.archMap != null) r.fail("", "give architectures or archMap, not both (as Docker requires)");
  return {
    defaultAction,
    defaultErrnoRet: r.errno(top.defaultErrnoRet, "defaultErrnoRet", defaultAction),
    syscalls: (r.array(top.syscalls, "syscalls") ?? []).map((v, i) => rule(r, v, `syscalls[${i}]`)),
  };
}

function rule(r: Reader, v: unknown, path: string): Rule {
  const o = r.object(v, path, ["names", "action", "errnoRet", "args", "comment", "includes", "excludes"]);
  const names = r.strings(o.names, `${path}.names`, /^[a-z0-9_]+$/, "a syscall name");
  if (!names?.length) r.fail(`${path}.names`, "expected a non-empty array of syscall names");
  const action = r.oneOf(o.action, `${path}.action`, DOCKER_ACTIONS, "action");
  return {
    names,
    action,
    errnoRet: r.errno(o.errnoRet, `${path}.errnoRet`, action),
    args: r.array(o.args, `${path}.args`)?.map((a, i) => arg(r, a, `${path}.args[${i}]`)),
    includes: filter(r, o.includes, `${path}.includes`, true),
    excludes: filter(r, o.excludes, `${path}.excludes`, false),
    comment: o.comment == null ? undefined : r.string(o.comment, `${path}.comment`),
  };
}

function arg(r: Reader, v: unknown, path: string): ArgCondition {
  const o = r.object(v, path, ["index", "value", "valueTwo", "op"]);
  const index = r.uint(o.index, `${path}.index`, 5);
  if (index === undefined) r.fail(`${path}.index`, "expected an integer from 0 to 5");
  return {
    index,
    value: r.u64(o.value, `${path}.value`) ?? 0n,
    valueTwo: r.u64(o.valueTwo, `${path}.valueTwo`),
    op: r.oneOf(o.op, `${path}.op`, OPS, "op"),
  };
}

function filter(r: Reader, v: unknown, path: string, includes: boolean): Filter | undefined {
  if (v == null) return undefined;
  const o = r.object(v, path, includes ? ["caps", "arches", "minKernel"] : ["caps", "arches"]);
  if (o.minKernel != null) {
    const m = typeof o.minKernel === "string" ? /^(\d+)\.(\d+)$/.exec(o.minKernel) : null;
    if (!m) r.fail(`${path}.minKernel`, 'expected a kernel version such as "4.8"');
    if (Number(m[1]) * 1000 + Number(m[2]) > MIN_KERNEL[0] * 1000 + MIN_KERNEL[1])
      r.fail(
        `${path}.minKernel`,
        `${o.minKernel} is above Linux ${MIN_KERNEL.join(".")}, and mycfs compiles profiles without asking the kernel; remove the field or the rule`,
      );
  }
  return { caps: r.strings(o.caps, `${path}.caps`), arches: r.strings(o.arches, `${path}.arches`) };
}
