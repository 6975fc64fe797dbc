// config.json's linux.seccomp (runtime-spec 1.1) in, the BPF program the child installs
// out. OCI's format is Docker's JSON profile less includes/excludes/comment/archMap, plus
// flags and the notify listener; it goes through the same Reader and compiler
// (src/seccomp). What mycfs cannot honour is refused, one line naming the field, rather than
// run a container under a filter other than the one its config describes:
//   - SCMP_ACT_NOTIFY, listenerPath, listenerMetadata: no seccomp user notification (the
//     child installs the filter with flags 0 and hands no listener fd to anyone);
//   - flags: SECCOMP_FILTER_FLAG_TSYNC is accepted, as runc does (the child is one thread
//     when it installs the filter, so every thread has it); LOG, SPEC_ALLOW and
//     WAIT_KILLABLE_RECV are refused: the install op (csrc/child/child.c set_seccomp) passes
//     no flags, and the spec carries only the compiled bytes;
//   - errnoRet on an action other than SCMP_ACT_ERRNO and SCMP_ACT_TRACE.
// As runc does: a syscall name unknown on this architecture is ignored (libseccomp cannot
// resolve it, runc logs it at debug level and goes on), so one profile serves kernels and
// architectures of different ages; the host's own architecture is always filtered whatever
// `architectures` lists (libseccomp's native arch). Unlike runc, the other ABIs listed
// (SCMP_ARCH_X86, SCMP_ARCH_X32 beside x86_64) are not given the profile's rules: mycfs's
// filter kills every call of an ABI other than the native one (src/seccomp/compile.ts).
// A rule whose args test one index more than once is split into one rule per condition
// (any may match), as runc does: libseccomp cannot AND two conditions on one argument.
import { MycfsError } from "../errors";
import { compileProfile } from "../seccomp/compile";
import { hostArch } from "../seccomp/filter";
import { arg, parseExactJson, Reader } from "../seccomp/parse";
import { ACTIONS, type Action, type ArgCondition, type Profile, type Rule } from "../seccomp/profile";

/** runtime-spec 1.1's seccomp architectures (libseccomp's names). */
const ARCHITECTURES = [
  "SCMP_ARCH_X86",
  "SCMP_ARCH_X86_64",
  "SCMP_ARCH_X32",
  "SCMP_ARCH_ARM",
  "SCMP_ARCH_AARCH64",
  "SCMP_ARCH_MIPS",
  "SCMP_ARCH_MIPS64",
  "SCMP_ARCH_MIPS64N32",
  "SCMP_ARCH_MIPSEL",
  "SCMP_ARCH_MIPSEL64",
  "SCMP_ARCH_MIPSEL64N32",
  "SCMP_ARCH_PPC",
  "SCMP_ARCH_PPC64",
  "SCMP_ARCH_PPC64LE",
  "SCMP_ARCH_S390",
  "SCMP_ARCH_S390X",
  "SCMP_ARCH_PARISC",
  "SCMP_ARCH_PARISC64",
  "SCMP_ARCH_RISCV64",
  "SCMP_ARCH_LOONGARCH64",
  "SCMP_ARCH_M68K",
  "SCMP_ARCH_SH",
  "SCMP_ARCH_SHEB",
] as const;

const FLAGS = ["SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG", "SECCOMP_FILTER_FLAG_SPEC_ALLOW", "SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"] as const;
/** Honoured; the others are known but refused (see the top of this file). */
const HONOURED_FLAGS: readonly string[] = ["SECCOMP_FILTER_FLAG_TSYNC"];

const ACTION_NAMES = [...(Object.keys(ACTIONS) as Action[]), "SCMP_ACT_NOTIFY"] as const;
const NO_NOTIFY = "mycfs does not support seccomp notify listeners";

const reader = () => new Reader((path) => `linux.seccomp${path ? (path.startsWith("[") ? path : `.${path}`) : ""}: `);

/** linux.seccomp as a Profile; an error names the first field mycfs cannot honour. */
export function ociSeccompProfile(seccomp: unknown): Profile {
  const r = reader();
  const top = r.object(seccomp, "", ["defaultAction", "defaultErrnoRet", "architectures", "flags", "listenerPath", "listenerMetadata", "syscalls"]);
  if (top.listenerPath != null && top.listenerPath !== "") r.fail("listenerPath", NO_NOTIFY);
  if (top.listenerMetadata != null && top.listenerMetadata !== "") r.fail("listenerMetadata", NO_NOTIFY);
  const defaultAction = action(r, top.defaultAction, "defaultAction");
  const architectures = r.strings(top.architectures, "architectures")?.map((a, i) => r.oneOf(a, `architectures[${i}]`, ARCHITECTURES, "architecture"));
  r.strings(top.flags, "flags")?.forEach((f, i) => {
    const flag = r.oneOf(f, `flags[${i}]`, FLAGS, "flag");
    if (!HONOURED_FLAGS.includes(flag)) r.fail(`flags[${i}]`, `mycfs does not support ${flag} (it installs the filter without flags); remove it`);
  });
  return {
    defaultAction,
    defaultErrnoRet: r.errno(top.defaultErrnoRet, "defaultErrnoRet", defaultAction),
    architectures,
    syscalls: (r.array(top.syscalls, "syscalls") ?? []).flatMap((v, i) => rules(r, v, `syscalls[${i}]`)),
  };
}

function action(r: Reader, v: unknown, path: string): Action {
  const a = r.oneOf(v, path, ACTION_NAMES, "action");
  if (a === "SCMP_ACT_NOTIFY") r.fail(path, `SCMP_ACT_NOTIFY: ${NO_NOTIFY}`);
  return a;
}

/** One OCI syscall entry: one rule, or one per condition when an index repeats (runc). */
function rules(r: Reader, v: unknown, path: string): Rule[] {
  const o = r.object(v, path, ["names", "action", "errnoRet", "args"]);
  // any string: a name this architecture lacks is skipped by the compiler (runc ignores it)
  const names = r.strings(o.names, `${path}.names`);
  if (!names?.length) r.fail(`${path}.names`, "expected a non-empty array of syscall names");
  const act = action(r, o.action, `${path}.action`);
  const errnoRet = r.errno(o.errnoRet, `${path}.errnoRet`, act);
  const args: ArgCondition[] = r.array(o.args, `${path}.args`)?.map((a, i) => arg(r, a, `${path}.args[${i}]`)) ?? [];
  const repeated = new Set(args.map((a) => a.index)).size < args.length;
  if (!repeated) return [{ names, action: act, errnoRet, args }];
  return args.map((a) => ({ names, action: act, errnoRet, args: [a] }));
}

/** The filter for this host's architecture, or null when config.json has no linux.seccomp
 * (unconfined, as runc runs it). */
export function ociSeccompFilter(seccomp: unknown): Uint8Array | null {
  if (seccomp == null) return null;
  return compileProfile(ociSeccompProfile(seccomp), { arch: hostArch(), caps: new Set() });
}

/** ociSeccompFilter from config.json's text, read again so that argument values above 2^53
 * (JSON numbers are doubles) stay exact: a config parsed with JSON.parse alone has them
 * rounded, and ociSeccompFilter refuses those rather than compare with another value. */
export function ociSeccompFilterFromConfig(configJson: string): Uint8Array | null {
  let config: unknown;
  try {
    config = parseExactJson(configJson);
  } catch (e) {
    throw new MycfsError(`config.json: not valid JSON (${(e as Error).message})`);
  }
  const linux = typeof config === "object" && config !== null ? (config as { linux?: unknown }).linux : undefined;
  return ociSeccompFilter(typeof linux === "object" && linux !== null ? (linux as { seccomp?: unknown }).seccomp : undefined);
}
