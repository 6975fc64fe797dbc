// A Profile compiled into the classic-BPF program that seccomp(SECCOMP_SET_MODE_FILTER)
// installs. The program, in order:
//   1. seccomp_data.arch must be the target's; anything else is killed.
//   2. On x86_64, numbers with the x32 bit are killed too (below).
//   3. A binary search on the syscall number over ranges of numbers that share an outcome:
//      about log2(ranges) jumps for every syscall the container makes.
//   4. The outcomes: a RET for most; for syscalls whose rules test arguments, the tests of
//      each rule in order, ending in the default action.
// Everything is written back to front (bpf.ts), so jumps are resolved as they are written.
import { MycfsError } from "../errors";
import { ARCHES, type Arch, type ArchInfo } from "./arch";
import { BPF, Program, type Label } from "./bpf";
import { ACTIONS, TAKES_ERRNO, type Action, type ArgCondition, type Op, type Profile, type Rule } from "./profile";
import { E } from "../errno";

/** BPF_MAXINSNS: the kernel refuses longer filters. */
const MAX_INSNS = 4096;
const KILL = ACTIONS.SCMP_ACT_KILL_PROCESS;

// offsets in struct seccomp_data
const NR = 0;
const ARCH = 4;
/** args[i] is a u64 at 16 + 8i; both targets are little endian: low word first. */
const arg = (i: number) => 16 + 8 * i;

export interface CompileOptions {
  arch: Arch;
  /** The capabilities the container keeps, as CAP_SYS_ADMIN. */
  caps: ReadonlySet<string>;
}

export function compileProfile(profile: Profile, opts: CompileOptions): Uint8Array {
  const arch = ARCHES[opts.arch];
  const p = new Program();
  // written first, so the program ends in a RET, as the kernel requires
  const otherwise = p.ret(retValue(profile.defaultAction, profile.defaultErrnoRet));
  const outcomes = new Map<number, Label>();
  const shared = new Map<string, Label>();
  for (const [nr, rules] of [...rulesBySyscall(profile, arch, opts.caps)].sort(([a], [b]) => a - b)) {
    const key = outcomeKey(rules);
    const label = shared.get(key) ?? outcome(p, rules, otherwise);
    shared.set(key, label);
    outcomes.set(nr, label);
  }
  let start = search(p, outcomes, otherwise);
  // x32 shares AUDIT_ARCH_X86_64 and marks its numbers with a bit. It is another ABI, killed
  // as i386 (AUDIT_ARCH_I386) is: an allow-list keyed on x86_64 numbers says nothing about
  // it, and a deny-list would be bypassed by it. EPERM would leave an x32 program failing
  // in odd places; being killed with SIGSYS says what happened.
  if (arch.abiBit) start = p.jump(BPF.JSET, arch.abiBit, p.ret(KILL), start);
  start = p.stmt(BPF.LD_ABS, NR, start);
  start = p.jump(BPF.JEQ, arch.audit, start, p.ret(KILL));
  p.stmt(BPF.LD_ABS, ARCH, start);
  if (p.length > MAX_INSNS)
    throw new MycfsError(`the seccomp profile compiles to ${p.length} BPF instructions, more than the kernel's ${MAX_INSNS}; give it fewer argument rules`);
  return p.bytes();
}

/** The rules whose includes/excludes let them apply to this target and these caps. */
export function applicableRules(profile: Profile, arch: ArchInfo, caps: ReadonlySet<string>): Rule[] {
  return profile.syscalls.filter(
    ({ includes: inc, excludes: exc }) =>
      (inc?.caps ?? []).every((c) => caps.has(c)) &&
      (!inc?.arches?.length || inc.arches.includes(arch.goArch)) &&
      !(exc?.caps ?? []).some((c) => caps.has(c)) &&
      !exc?.arches?.includes(arch.goArch),
  );
}

/** The rules that apply to the target, by syscall number, in profile order. */
function rulesBySyscall(profile: Profile, arch: ArchInfo, caps: ReadonlySet<string>): Map<number, Rule[]> {
  const byNr = new Map<number, Rule[]>();
  for (const rule of applicableRules(profile, arch, caps))
    for (const name of rule.names) {
      const nr = arch.syscalls.get(name);
      if (nr === undefined) continue; // not a syscall of this architecture: skipped, as Docker does
      const rules = byNr.get(nr) ?? [];
      // a rule without argument tests always matches: the ones after it are never reached
      if (rules.every((r) => r.args?.length)) rules.push(rule);
      byNr.set(nr, rules);
    }
  return byNr;
}

function retValue(action: Action, errnoRet?: number): number {
  return (ACTIONS[action] | (TAKES_ERRNO.has(action) ? (errnoRet ?? E.EPERM) : 0)) >>> 0;
}

/** Two syscalls whose rules say the same thing share one outcome. */
function outcomeKey(rules: Rule[]): string {
  return rules
    .map((r) => `${retValue(r.action, r.errnoRet)}:${(r.args ?? []).map((a) => `${a.index} ${a.op} ${a.value} ${a.valueTwo ?? 0n}`).join("&")}`)
    .join("|");
}

/** The first rule whose tests all hold decides; `otherwise` if none does. */
function outcome(p: Program, rules: Rule[], otherwise: Label): Label {
  let next = otherwise;
  for (const rule of rules.toReversed()) {
    let match = p.ret(retValue(rule.action, rule.errnoRet));
    for (const a of (rule.args ?? []).toReversed()) match = compare(p, a, match, next);
    next = match;
  }
  return next;
}

/** NE, LT and LE are EQ, GE and GT with the outcomes swapped. */
const NEGATION: Partial<Record<Op, Op>> = { SCMP_CMP_NE: "SCMP_CMP_EQ", SCMP_CMP_LT: "SCMP_CMP_GE", SCMP_CMP_LE: "SCMP_CMP_GT" };
const ALL_ONES = (1n << 64n) - 1n;

/** Code that goes to `yes` if the 64-bit argument test holds, else to `no`. */
function compare(p: Program, a: ArgCondition, yes: Label, no: Label): Label {
  const negation = NEGATION[a.op];
  if (negation) return compare(p, { ...a, op: negation }, no, yes);
  const at = arg(a.index);
  if (a.op === "SCMP_CMP_EQ") return maskedEq(p, at, ALL_ONES, a.value, yes, no);
  if (a.op === "SCMP_CMP_MASKED_EQ") return maskedEq(p, at, a.value, a.valueTwo ?? 0n, yes, no);
  // GT, GE: the high words decide unless they are equal, then the low words do
  const [hi, lo] = [word(a.value, 1), word(a.value, 0)];
  const low = p.stmt(BPF.LD_ABS, at, p.jump(a.op === "SCMP_CMP_GE" ? BPF.JGE : BPF.JGT, lo, yes, no));
  return p.stmt(BPF.LD_ABS, at + 4, p.jump(BPF.JGT, hi, yes, p.jump(BPF.JEQ, hi, low, no)));
}

/** (arg & mask) == value, one 32-bit word at a time, high word first. */
function maskedEq(p: Program, at: number, mask: bigint, value: bigint, yes: Label, no: Label): Label {
  if (value & ~mask) return no; // a bit outside the mask can never match
  let next = yes;
  for (const half of [0, 1] as const) {
    const m = word(mask, half);
    if (m === 0) continue; // (x & 0) == 0 always holds
    next = p.jump(BPF.JEQ, word(value, half), next, no);
    if (m !== 0xffffffff) next = p.stmt(BPF.AND, m, next);
    next = p.stmt(BPF.LD_ABS, at + 4 * half, next);
  }
  return next;
}

const word = (v: bigint, half: 0 | 1) => Number((v >> BigInt(32 * half)) & 0xffffffffn);

/**
 * A binary search on the syscall number (in A) that ends at each number's outcome. Numbers
 * next to each other with the same outcome form one range, gaps take `otherwise`, so the
 * search is over where the outcome changes: 68 ranges for Docker's profile on x86_64.
 */
function search(p: Program, outcomes: Map<number, Label>, otherwise: Label): Label {
  const starts: number[] = [];
  const labels: Label[] = [];
  const range = (start: number, label: Label) => {
    if (labels.at(-1) === label) return;
    starts.push(start);
    labels.push(label);
  };
  let next = 0;
  for (const [nr, label] of outcomes) {
    if (nr > next) range(next, otherwise);
    range(nr, label);
    next = nr + 1;
  }
  range(next, otherwise);
  const tree = (i: number, j: number): Label => {
    if (i === j) return labels[i]!;
    const mid = (i + j + 1) >> 1;
    const above = tree(mid, j);
    return p.jump(BPF.JGE, starts[mid]!, above, tree(i, mid - 1));
  };
  return tree(0, labels.length - 1);
}
