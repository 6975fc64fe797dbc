// A seccomp profile, in the shape of Docker's JSON profiles (moby profiles/seccomp) so
// that theirs read as ours. Rules for one syscall are tried in order, the first whose
// argument conditions all hold decides, and the default action answers the rest.

/** Each action and what the filter returns for it (SECCOMP_RET_*). */
export const ACTIONS = {
  SCMP_ACT_ALLOW: 0x7fff0000,
  SCMP_ACT_ERRNO: 0x00050000, // | errno
  SCMP_ACT_KILL: 0, // libseccomp's name for KILL_THREAD
  SCMP_ACT_KILL_THREAD: 0,
  SCMP_ACT_KILL_PROCESS: 0x80000000,
  SCMP_ACT_TRAP: 0x00030000,
  SCMP_ACT_TRACE: 0x7ff00000, // | the value the tracer sees
  SCMP_ACT_LOG: 0x7ffc0000,
  SCMP_ACT_NOTIFY: 0x7fc00000, // SECCOMP_RET_USER_NOTIF: config.json's listener answers (src/oci)
} as const;
export type Action = keyof typeof ACTIONS;

/** Actions whose return value carries errnoRet (EPERM when it is not given, as runc does). */
export const TAKES_ERRNO: ReadonlySet<Action> = new Set(["SCMP_ACT_ERRNO", "SCMP_ACT_TRACE"]);

/** Comparisons of a 64-bit argument with `value`; MASKED_EQ is (arg & value) == valueTwo. */
export const OPS = ["SCMP_CMP_NE", "SCMP_CMP_LT", "SCMP_CMP_LE", "SCMP_CMP_EQ", "SCMP_CMP_GE", "SCMP_CMP_GT", "SCMP_CMP_MASKED_EQ"] as const;
export type Op = (typeof OPS)[number];

export interface ArgCondition {
  /** Which argument, 0-5. */
  index: number;
  value: bigint;
  valueTwo?: bigint;
  op: Op;
}

/** When a rule applies: every cap in `caps` is kept, and the target is one of `arches`. */
export interface Filter {
  caps?: readonly string[];
  /** Go's names, as Docker's profiles use them: amd64, arm64. */
  arches?: readonly string[];
}

export interface Rule {
  names: readonly string[];
  action: Action;
  errnoRet?: number;
  /** All must hold. */
  args?: readonly ArgCondition[];
  includes?: Filter;
  /** The rule is left out if any cap here is kept or the target is one of these arches. */
  excludes?: Filter;
  comment?: string;
}

export interface Profile {
  defaultAction: Action;
  defaultErrnoRet?: number;
  /** SCMP_ARCH_* names; when given, the target must be one of them. */
  architectures?: readonly string[];
  syscalls: readonly Rule[];
}
