// The seccomp compiler, checked by running its programs: a small classic-BPF interpreter
// runs them on seccomp_data the way the kernel would, and the answers are compared with
// what the profile says (read here straight from the model), call by call. No root needed.
import { describe, expect, test } from "bun:test";
import { MycfsError } from "../src/errors";
import type { Arch } from "../src/seccomp/arch";
import { compileProfile } from "../src/seccomp/compile";
import { defaultProfile } from "../src/seccomp/default";
import { parseProfile } from "../src/seccomp/parse";
import type { Action, ArgCondition, Profile } from "../src/seccomp/profile";
import { aarch64 } from "../src/seccomp/syscalls/aarch64";
import { newer } from "../src/seccomp/syscalls/newer";
import { x86_64 } from "../src/seccomp/syscalls/x86_64";

// What the kernel expects, written out here rather than taken from the code under test.
const AUDIT = { x86_64: 0xc000003e, aarch64: 0xc00000b7, i386: 0x40000003 };
const TABLES: Record<Arch, Readonly<Record<string, number>>> = { x86_64: { ...x86_64, ...newer.x86_64 }, aarch64: { ...aarch64, ...newer.aarch64 } };
const GOARCH: Record<Arch, string> = { x86_64: "amd64", aarch64: "arm64" };
const RETURNS: Record<Action, number> = {
  SCMP_ACT_ALLOW: 0x7fff0000,
  SCMP_ACT_ERRNO: 0x00050000,
  SCMP_ACT_KILL: 0,
  SCMP_ACT_KILL_THREAD: 0,
  SCMP_ACT_KILL_PROCESS: 0x80000000,
  SCMP_ACT_TRAP: 0x00030000,
  SCMP_ACT_TRACE: 0x7ff00000,
  SCMP_ACT_LOG: 0x7ffc0000,
  SCMP_ACT_NOTIFY: 0x7fc00000,
};
const ALLOW = 0x7fff0000;
const KILL_PROCESS = 0x80000000;
const EPERM = 1;
const ENOSYS = 38;
const errno = (e: number) => 0x00050000 | e;
const ARCHES = ["x86_64", "aarch64"] as const;

// ---- a classic-BPF machine, for seccomp's subset

const OPCODES = new Set([0x20, 0x54, 0x05, 0x15, 0x25, 0x35, 0x45, 0x06]);

/** What the kernel checks before it takes a filter (bpf_check_classic, seccomp_check_filter). */
function verify(prog: Uint8Array) {
  const n = prog.length / 8;
  expect(n).toBeGreaterThan(0);
  expect(n).toBeLessThanOrEqual(4096);
  const v = new DataView(prog.buffer, prog.byteOffset, prog.byteLength);
  for (let pc = 0; pc < n; pc++) {
    const [code, jt, jf, k] = [v.getUint16(pc * 8, true), v.getUint8(pc * 8 + 2), v.getUint8(pc * 8 + 3), v.getUint32(pc * 8 + 4, true)];
    if (!OPCODES.has(code)) throw new Error(`insn ${pc}: opcode ${code.toString(16)}`);
    if (code === 0x20 && (k % 4 || k >= 64)) throw new Error(`insn ${pc}: load at ${k}`);
    if (code === 0x05 && pc + 1 + k >= n) throw new Error(`insn ${pc}: JA past the end`);
    if ((code & 0x07) === 0x05 && code !== 0x05 && pc + 1 + Math.max(jt, jf) >= n) throw new Error(`insn ${pc}: jump past the end`);
  }
  expect(v.getUint16((n - 1) * 8, true)).toBe(0x06);
}

/** seccomp_data: nr, arch, instruction_pointer, args[6], little endian. */
function seccompData(nr: number, arch: number, args: readonly bigint[] = []): DataView {
  const d = new DataView(new ArrayBuffer(64));
  d.setUint32(0, nr >>> 0, true);
  d.setUint32(4, arch, true);
  for (const [i, a] of args.entries()) d.setBigUint64(16 + 8 * i, BigInt.asUintN(64, a), true);
  return d;
}

/** The filter's answer, and how many instructions it took. */
function run(prog: Uint8Array, data: DataView): { ret: number; steps: number } {
  const v = new DataView(prog.buffer, prog.byteOffset, prog.byteLength);
  let a = 0;
  for (let pc = 0, steps = 1; ; pc++, steps++) {
    const [code, jt, jf, k] = [v.getUint16(pc * 8, true), v.getUint8(pc * 8 + 2), v.getUint8(pc * 8 + 3), v.getUint32(pc * 8 + 4, true)];
    const branch = (cond: boolean) => (pc += cond ? jt : jf);
    switch (code) {
      case 0x20:
        a = data.getUint32(k, true);
        break;
      case 0x54:
        a = (a & k) >>> 0;
        break;
      case 0x05:
        pc += k;
        break;
      case 0x15:
        branch(a === k);
        break;
      case 0x25:
        branch(a > k);
        break;
      case 0x35:
        branch(a >= k);
        break;
      case 0x45:
        branch((a & k) !== 0);
        break;
      case 0x06:
        return { ret: k, steps };
      default:
        throw new Error(`opcode ${code}`);
    }
  }
}

// ---- what a profile says, read from the model directly

const holds = (c: ArgCondition, x: bigint) =>
  ({
    SCMP_CMP_NE: x !== c.value,
    SCMP_CMP_LT: x < c.value,
    SCMP_CMP_LE: x <= c.value,
    SCMP_CMP_EQ: x === c.value,
    SCMP_CMP_GE: x >= c.value,
    SCMP_CMP_GT: x > c.value,
    SCMP_CMP_MASKED_EQ: (x & c.value) === (c.valueTwo ?? 0n),
  })[c.op];

const returns = (action: Action, errnoRet?: number) =>
  (RETURNS[action] | (action === "SCMP_ACT_ERRNO" || action === "SCMP_ACT_TRACE" ? (errnoRet ?? EPERM) : 0)) >>> 0;

function expected(profile: Profile, arch: Arch, caps: ReadonlySet<string>, nr: number, args: readonly bigint[]): number {
  if (arch === "x86_64" && nr & 0x40000000) return KILL_PROCESS;
  const name = Object.keys(TABLES[arch]).find((n) => TABLES[arch][n] === nr);
  for (const rule of profile.syscalls) {
    const { includes: inc, excludes: exc } = rule;
    if (!name || !rule.names.includes(name)) continue;
    if (!(inc?.caps ?? []).every((c) => caps.has(c)) || (inc?.arches?.length && !inc.arches.includes(GOARCH[arch]))) continue;
    if ((exc?.caps ?? []).some((c) => caps.has(c)) || exc?.arches?.includes(GOARCH[arch])) continue;
    if ((rule.args ?? []).every((c) => holds(c, args[c.index] ?? 0n))) return returns(rule.action, rule.errnoRet);
  }
  return returns(profile.defaultAction, profile.defaultErrnoRet);
}

/** Arguments near every value a syscall's rules compare with, in one slot and in all. */
function argsToTry(profile: Profile, name: string | undefined): bigint[][] {
  const near = new Set<bigint>([0n]);
  for (const c of profile.syscalls.filter((r) => name && r.names.includes(name)).flatMap((r) => r.args ?? []))
    for (const v of [c.value, c.valueTwo ?? 0n, (c.valueTwo ?? 0n) | ~c.value])
      for (const x of [v - 1n, v, v + 1n, v ^ (1n << 32n), v & 0xffffffffn, v | 0xffffffffn]) near.add(BigInt.asUintN(64, x));
  const values = [...near];
  const vectors = values.map((x) => Array<bigint>(6).fill(x));
  let seed = 1;
  const pick = () => values[(seed = (seed * 1103515245 + 12345) % 2 ** 31) % values.length]!;
  for (let i = 0; values.length > 1 && i < 40; i++) vectors.push(Array.from({ length: 6 }, pick));
  return vectors;
}

/** Every syscall number of the arch and some beyond, with arguments near the rules' values. */
function compareAll(profile: Profile, arch: Arch, caps: ReadonlySet<string>) {
  const prog = compile(profile, arch, caps);
  const table = TABLES[arch];
  const names = new Map(Object.entries(table).map(([n, nr]) => [nr, n]));
  const max = Math.max(...Object.values(table));
  const nrs = [...Array(max + 20).keys(), 0x3fffffff, 0x40000000, 0x40000000 | table.read!, 0x7fffffff, 0xffffffff];
  let worst = 0;
  for (const nr of nrs)
    for (const args of argsToTry(profile, names.get(nr))) {
      const { ret, steps } = run(prog, seccompData(nr, AUDIT[arch], args));
      if (ret !== expected(profile, arch, caps, nr, args))
        throw new Error(
          `${arch} ${names.get(nr) ?? nr}(${args.join(", ")}): ${ret.toString(16)}, expected ${expected(profile, arch, caps, nr, args).toString(16)}`,
        );
      worst = Math.max(worst, steps);
    }
  return { prog, worst };
}

function compile(profile: Profile, arch: Arch, caps: ReadonlySet<string> = new Set()) {
  const prog = compileProfile(profile, { arch, caps });
  verify(prog);
  return prog;
}

/** The default profile's answer for one call. */
function answer(arch: Arch, name: string, args: bigint[] = [], caps: string[] = []) {
  const nr = TABLES[arch][name];
  if (nr === undefined) throw new Error(`no ${name} on ${arch}`);
  return run(compile(defaultProfile(), arch, new Set(caps)), seccompData(nr, AUDIT[arch], args)).ret;
}

// ---- the default profile

const CLONE_NEWUSER = 0x10000000n;
const SIGCHLD = 17n;
const PTHREAD_CLONE_FLAGS = 0x3d0f00n; // VM FS FILES SIGHAND THREAD SYSVSEM SETTLS PARENT_SETTID CHILD_CLEARTID
const TIOCSTI = 0x5412n;
const TIOCLINUX = 0x541cn;
const TCGETS = 0x5401n;
const HIGH = 1n << 32n;

describe.each(ARCHES)("the default profile on %s", (arch) => {
  test("everyday calls are allowed", () => {
    for (const name of ["read", "write", "execve", "openat", "futex", "mmap", "exit_group", "rt_sigreturn", "fstat"]) expect(answer(arch, name)).toBe(ALLOW);
    expect(answer(arch, "socket", [2n, 1n, 0n])).toBe(ALLOW); // AF_INET
  });

  test("mount, unshare, setns: EPERM without CAP_SYS_ADMIN, allowed with it", () => {
    for (const name of ["mount", "umount2", "unshare", "setns", "sethostname"]) {
      expect(answer(arch, name)).toBe(errno(EPERM));
      expect(answer(arch, name, [], ["CAP_SYS_ADMIN"])).toBe(ALLOW);
    }
  });

  test("clone: new namespaces only with CAP_SYS_ADMIN; clone3 answers ENOSYS so libc uses clone", () => {
    expect(answer(arch, "clone", [SIGCHLD])).toBe(ALLOW);
    expect(answer(arch, "clone", [PTHREAD_CLONE_FLAGS])).toBe(ALLOW);
    expect(answer(arch, "clone", [CLONE_NEWUSER | SIGCHLD])).toBe(errno(EPERM));
    expect(answer(arch, "clone", [0x20000n])).toBe(errno(EPERM)); // CLONE_NEWNS
    expect(answer(arch, "clone", [CLONE_NEWUSER | SIGCHLD], ["CAP_SYS_ADMIN"])).toBe(ALLOW);
    expect(answer(arch, "clone3")).toBe(errno(ENOSYS));
    expect(answer(arch, "clone3", [], ["CAP_SYS_ADMIN"])).toBe(ALLOW);
  });

  test("ioctl: TIOCSTI and TIOCLINUX refused, whatever the high 32 bits; others allowed", () => {
    expect(answer(arch, "ioctl", [0n, TIOCSTI])).toBe(errno(EPERM));
    expect(answer(arch, "ioctl", [0n, TIOCLINUX])).toBe(errno(EPERM));
    expect(answer(arch, "ioctl", [0n, TIOCSTI | HIGH])).toBe(errno(EPERM)); // the kernel reads an unsigned int
    expect(answer(arch, "ioctl", [0n, TIOCSTI], ["CAP_SYS_ADMIN"])).toBe(errno(EPERM));
    expect(answer(arch, "ioctl", [0n, TCGETS])).toBe(ALLOW);
    expect(answer(arch, "ioctl", [0n, TIOCSTI + 1n])).toBe(ALLOW);
  });

  test("socket(AF_VSOCK) refused, whatever the high 32 bits", () => {
    expect(answer(arch, "socket", [40n, 1n, 0n])).toBe(errno(EPERM));
    expect(answer(arch, "socket", [40n | HIGH, 1n, 0n])).toBe(errno(EPERM));
  });

  test("refused by default: keys, kexec, modules, bpf, perf, handles, reboot, userfaultfd", () => {
    const refused = [
      "keyctl",
      "add_key",
      "request_key",
      "kexec_load",
      "kexec_file_load",
      "init_module",
      "finit_module",
      "delete_module",
      "bpf",
      "perf_event_open",
      "open_by_handle_at",
      "reboot",
      "userfaultfd",
      "pivot_root",
      "swapon",
      "acct",
      "kcmp",
    ];
    for (const name of refused) expect([name, answer(arch, name)]).toEqual([name, errno(EPERM)]);
  });

  test("io_uring refused, whatever the capabilities: its operations would bypass the filter", () => {
    for (const name of ["io_uring_setup", "io_uring_enter", "io_uring_register"])
      for (const caps of [[], ["CAP_SYS_ADMIN"]]) expect([name, answer(arch, name, [], caps)]).toEqual([name, errno(EPERM)]);
  });

  test("calls newer than the tables' headers are numbered: Docker's allow them; lsm_* only with CAP_SYS_ADMIN", () => {
    for (const name of ["cachestat", "fchmodat2", "futex_wake", "futex_wait", "futex_requeue", "statmount", "listmount", "mseal", "getxattrat", "setxattrat"])
      expect([name, answer(arch, name)]).toEqual([name, ALLOW]);
    for (const name of ["lsm_get_self_attr", "lsm_set_self_attr", "lsm_list_modules"]) {
      expect([name, answer(arch, name)]).toEqual([name, errno(EPERM)]);
      expect([name, answer(arch, name, [], ["CAP_SYS_ADMIN"])]).toEqual([name, ALLOW]);
    }
  });

  test("a capability opens its own calls only", () => {
    expect(answer(arch, "bpf", [], ["CAP_BPF"])).toBe(ALLOW);
    expect(answer(arch, "perf_event_open", [], ["CAP_PERFMON"])).toBe(ALLOW);
    expect(answer(arch, "init_module", [], ["CAP_SYS_MODULE"])).toBe(ALLOW);
    expect(answer(arch, "reboot", [], ["CAP_SYS_BOOT"])).toBe(ALLOW);
    expect(answer(arch, "open_by_handle_at", [], ["CAP_DAC_READ_SEARCH"])).toBe(ALLOW);
    expect(answer(arch, "mount", [], ["CAP_SYS_BOOT", "CAP_BPF"])).toBe(errno(EPERM));
    const all = ["CAP_SYS_ADMIN", "CAP_SYS_BOOT", "CAP_SYS_MODULE", "CAP_BPF", "CAP_PERFMON", "CAP_SYS_PTRACE"];
    for (const name of ["keyctl", "add_key", "request_key", "kexec_load", "userfaultfd"]) expect(answer(arch, name, [], all)).toBe(errno(EPERM));
  });

  test("unknown numbers get EPERM; another architecture is killed", () => {
    const prog = compile(defaultProfile(), arch);
    for (const nr of [1000, 0x3fffffff, 0xffffffff & ~0x40000000]) expect(run(prog, seccompData(nr, AUDIT[arch])).ret).toBe(errno(EPERM));
    const other = arch === "x86_64" ? AUDIT.aarch64 : AUDIT.x86_64;
    for (const audit of [other, AUDIT.i386, 0]) expect(run(prog, seccompData(0, audit)).ret).toBe(KILL_PROCESS);
  });

  test("an argument that differs only in its high word does not match", () => {
    expect(answer(arch, "personality", [0xffffffffn])).toBe(ALLOW);
    expect(answer(arch, "personality", [0xffffffffn | HIGH])).toBe(errno(EPERM));
    expect(answer(arch, "personality", [HIGH])).toBe(errno(EPERM));
  });

  for (const caps of [[], ["CAP_SYS_ADMIN"], ["CAP_SYS_PTRACE", "CAP_SYS_NICE", "CAP_SYS_TIME"]])
    test(`every call answers as the profile says, caps [${caps.join(" ")}]`, () => {
      expect(compareAll(defaultProfile(), arch, new Set(caps)).worst).toBeLessThanOrEqual(40); // personality: five rules in a row
    });

  test("common calls run few instructions", () => {
    const prog = compile(defaultProfile(), arch);
    for (const name of ["read", "write", "futex", "openat", "close", "mmap"])
      expect(run(prog, seccompData(TABLES[arch][name]!, AUDIT[arch])).steps).toBeLessThanOrEqual(12);
  });
});

test("x86_64: x32 calls are killed", () => {
  const prog = compile(defaultProfile(), "x86_64");
  for (const name of ["read", "write", "mount"]) expect(run(prog, seccompData(0x40000000 | x86_64[name]!, AUDIT.x86_64)).ret).toBe(KILL_PROCESS);
});

test("the default profile compiles to well under the kernel's 4096 instructions", () => {
  const everyCap = ["CAP_SYS_ADMIN", "CAP_SYS_PTRACE", "CAP_SYS_NICE", "CAP_SYS_TIME", "CAP_BPF", "CAP_PERFMON", "CAP_SYS_MODULE"];
  for (const arch of ARCHES)
    for (const caps of [[], ["CAP_SYS_ADMIN"], everyCap]) expect(compile(defaultProfile(), arch, new Set(caps)).length / 8).toBeLessThan(200);
});

describe.skipIf(process.platform !== "linux" || !["x64", "arm64"].includes(process.arch))("in the kernel", () => {
  // test/seccomp-child.ts installs the default filter on itself, then makes these calls
  async function child(calls: string[][], x32 = false) {
    const p = Bun.spawn([process.execPath, "test/seccomp-child.ts", JSON.stringify(calls), ...(x32 ? ["x32"] : [])], {
      stdin: "pipe",
      stdout: "pipe",
      stderr: "pipe",
    });
    const [out, err] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
    return { out: out ? (JSON.parse(out) as { installed: number[]; results: number[] }) : null, err, signal: p.signalCode };
  }

  test("the kernel takes the program and answers as the interpreter does", async () => {
    const r = await child([
      ["getpid"],
      ["ioctl", "0", String(TCGETS), "buf"], // reaches the kernel: stdin is a pipe, not a terminal
      ["ioctl", "0", String(TIOCSTI), "buf"],
      ["ioctl", "0", String(TIOCSTI | HIGH), "buf"],
      ["clone3", "0", "0"],
      ["socket", "40", "1", "0"],
      ["socket", String(40n | HIGH), "1", "0"],
      ["socket", "1", "1", "0"],
      ["unshare", String(CLONE_NEWUSER)],
      ["keyctl", "0", "-3"],
      ["1000"],
      ["personality", "4294967295"],
      ["personality", String(0xffffffffn | HIGH)],
      ["io_uring_setup", "1", "buf"],
    ]);
    expect(r.err).toBe("");
    expect(r.out!.installed).toEqual([0, 0]);
    const [pid, tcgets, tiocsti, tiocstiHigh, clone3, vsock, vsockHigh, unix, unshare, keyctl, unknown, persona, personaHigh, uring] = r.out!
      .results as number[];
    expect(pid).toBeGreaterThan(0);
    expect(tcgets).toBe(-25); // ENOTTY, from the kernel
    expect([tiocsti, tiocstiHigh, vsock, vsockHigh, unshare, keyctl, unknown, personaHigh, uring]).toEqual(Array(9).fill(-EPERM));
    expect(clone3).toBe(-ENOSYS);
    expect(unix).toBeGreaterThan(2);
    expect(persona).toBeGreaterThanOrEqual(0);
  });

  test.skipIf(process.arch !== "x64")("an x32 call kills the process with SIGSYS", async () => {
    const r = await child([["getpid"]], true);
    expect(r.out!.results[0]).toBeGreaterThan(0);
    expect(r.signal).toBe("SIGSYS");
  });
});

// ---- the compiler, on profiles made to stretch it

describe("compileProfile", () => {
  const everyOp: Profile = {
    defaultAction: "SCMP_ACT_ALLOW",
    syscalls: [
      { names: ["read"], action: "SCMP_ACT_ERRNO", errnoRet: 5, args: [{ index: 0, op: "SCMP_CMP_EQ", value: 0x1_0000_0005n }] },
      { names: ["write"], action: "SCMP_ACT_TRAP", args: [{ index: 1, op: "SCMP_CMP_NE", value: 7n }] },
      { names: ["close"], action: "SCMP_ACT_LOG", args: [{ index: 2, op: "SCMP_CMP_GT", value: 0x2_0000_0000n }] },
      { names: ["close"], action: "SCMP_ACT_KILL_THREAD", args: [{ index: 2, op: "SCMP_CMP_GE", value: 0xffffffffn }] },
      { names: ["openat"], action: "SCMP_ACT_TRACE", errnoRet: 42, args: [{ index: 3, op: "SCMP_CMP_LT", value: 0x1_8000_0000n }] },
      { names: ["openat"], action: "SCMP_ACT_KILL", args: [{ index: 4, op: "SCMP_CMP_LE", value: 0xffff_ffff_ffff_fff0n }] },
      {
        names: ["dup3"],
        action: "SCMP_ACT_ERRNO",
        args: [{ index: 5, op: "SCMP_CMP_MASKED_EQ", value: 0xff00_0000_0000_ff00n, valueTwo: 0x1200_0000_0000_3400n }],
      },
      { names: ["fchdir"], action: "SCMP_ACT_ERRNO", args: [{ index: 0, op: "SCMP_CMP_MASKED_EQ", value: 0xffff_0000_0000_0000n }] },
      { names: ["fchdir"], action: "SCMP_ACT_KILL_PROCESS", args: [{ index: 1, op: "SCMP_CMP_MASKED_EQ", value: 0xf0n, valueTwo: 0x0fn }] },
      {
        names: ["getpid"],
        action: "SCMP_ACT_ERRNO",
        errnoRet: 9,
        args: [
          { index: 0, op: "SCMP_CMP_EQ", value: 1n },
          { index: 3, op: "SCMP_CMP_GE", value: 10n },
        ],
      },
      { names: ["getpid"], action: "SCMP_ACT_TRAP", args: [{ index: 0, op: "SCMP_CMP_EQ", value: 1n }] },
      { names: ["getpid", "gettid"], action: "SCMP_ACT_LOG" },
      { names: ["getpid"], action: "SCMP_ACT_KILL" },
      { names: ["mount", "no_such_call"], action: "SCMP_ACT_KILL_PROCESS" },
    ],
  };

  test.each(ARCHES)("every op, on both words, in rule order, as a deny-list (%s)", (arch) => {
    compareAll(everyOp, arch, new Set());
    // the deny-list cannot be stepped around with the x32 bit
    if (arch === "x86_64") expect(run(compile(everyOp, arch), seccompData(0x40000000 | x86_64.mount!, AUDIT.x86_64)).ret).toBe(KILL_PROCESS);
  });

  test.each(ARCHES)("jumps farther than 255 instructions (%s)", (arch) => {
    // a different argument test for every syscall: too much code between the search and its ends
    const wide: Profile = {
      defaultAction: "SCMP_ACT_ERRNO",
      syscalls: Object.keys(TABLES[arch]).map((name, i) => ({
        names: [name],
        action: i % 2 ? "SCMP_ACT_ALLOW" : "SCMP_ACT_LOG",
        args: [{ index: i % 6, op: "SCMP_CMP_GT", value: BigInt(i) << 31n }],
      })),
    };
    const { prog } = compareAll(wide, arch, new Set());
    expect(prog.length / 8).toBeGreaterThan(1000);
    expect([...Array(prog.length / 8).keys()].some((i) => prog[i * 8] === 0x05)).toBe(true); // a JA was needed
  });

  test("includes and excludes: caps and arches", () => {
    const profile: Profile = {
      defaultAction: "SCMP_ACT_ERRNO",
      syscalls: [
        { names: ["read"], action: "SCMP_ACT_ALLOW", includes: { caps: ["CAP_A", "CAP_B"] } },
        { names: ["write"], action: "SCMP_ACT_ALLOW", includes: { arches: ["arm64"] } },
        { names: ["close"], action: "SCMP_ACT_ALLOW", excludes: { arches: ["amd64"], caps: ["CAP_C"] } },
      ],
    };
    for (const arch of ARCHES) for (const caps of [[], ["CAP_A"], ["CAP_A", "CAP_B"], ["CAP_C"]]) compareAll(profile, arch, new Set(caps));
    expect(run(compile(profile, "x86_64", new Set(["CAP_A", "CAP_B"])), seccompData(x86_64.read!, AUDIT.x86_64)).ret).toBe(ALLOW);
  });

  test("nothing but a default, as struct sock_filter bytes, little endian", () => {
    const prog = compile({ defaultAction: "SCMP_ACT_ALLOW", syscalls: [] }, "x86_64");
    expect([...prog]).toEqual(
      [
        [0x20, 0, 0, 0, 4, 0, 0, 0], // ld [4]                      arch
        [0x15, 0, 0, 2, 0x3e, 0, 0, 0xc0], // jeq AUDIT_ARCH_X86_64, 0, 2
        [0x20, 0, 0, 0, 0, 0, 0, 0], // ld [0]                      nr
        [0x45, 0, 0, 1, 0, 0, 0, 0x40], // jset 0x40000000, 0, 1      x32
        [0x06, 0, 0, 0, 0, 0, 0, 0x80], // ret KILL_PROCESS
        [0x06, 0, 0, 0, 0, 0, 0xff, 0x7f], // ret ALLOW
      ].flat(),
    );
    const arm = compile({ defaultAction: "SCMP_ACT_ALLOW", syscalls: [] }, "aarch64");
    expect(run(arm, seccompData(aarch64.mount!, AUDIT.aarch64)).ret).toBe(ALLOW);
    expect(run(arm, seccompData(aarch64.mount!, AUDIT.x86_64)).ret).toBe(KILL_PROCESS);
  });

  test("more than 4096 instructions is an error", () => {
    const huge: Profile = {
      defaultAction: "SCMP_ACT_ERRNO",
      syscalls: Array.from({ length: 2000 }, (_, i) => ({
        names: ["personality"],
        action: "SCMP_ACT_ALLOW" as const,
        args: [{ index: 0, value: BigInt(i), op: "SCMP_CMP_EQ" as const }],
      })),
    };
    expect(() => compileProfile(huge, { arch: "x86_64", caps: new Set() })).toThrow(MycfsError);
    expect(() => compileProfile(huge, { arch: "x86_64", caps: new Set() })).toThrow(/compiles to \d+ BPF instructions, more than the kernel's 4096/);
  });
});

// ---- Docker's JSON format

describe("parseProfile", () => {
  test("a profile in Docker's format", () => {
    const json = `{
      "defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 1,
      "archMap": [{ "architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86", "SCMP_ARCH_X32"] },
                  { "architecture": "SCMP_ARCH_RISCV64", "subArchitectures": null }],
      "syscalls": [
        { "names": ["read", "write"], "action": "SCMP_ACT_ALLOW" },
        { "names": ["ptrace"], "action": "SCMP_ACT_ALLOW", "includes": { "minKernel": "4.8" } },
        { "names": ["clone"], "action": "SCMP_ACT_ALLOW", "comment": "no namespaces",
          "args": [{ "index": 0, "value": 2114060288, "op": "SCMP_CMP_MASKED_EQ" }],
          "excludes": { "caps": ["CAP_SYS_ADMIN"], "arches": ["s390", "s390x"] } },
        { "names": ["clone3"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38, "excludes": { "caps": ["CAP_SYS_ADMIN"] } },
        { "names": ["personality"], "action": "SCMP_ACT_ALLOW", "args": [{ "index": 0, "value": 18446744073709551615, "valueTwo": 0, "op": "SCMP_CMP_EQ" }] }
      ]
    }`;
    expect(parseProfile(json, "docker.json")).toEqual({
      defaultAction: "SCMP_ACT_ERRNO",
      defaultErrnoRet: 1,
      syscalls: [
        { names: ["read", "write"], action: "SCMP_ACT_ALLOW" },
        { names: ["ptrace"], action: "SCMP_ACT_ALLOW", includes: { caps: undefined, arches: undefined } },
        {
          names: ["clone"],
          action: "SCMP_ACT_ALLOW",
          comment: "no namespaces",
          args: [{ index: 0, value: 0x7e020000n, op: "SCMP_CMP_MASKED_EQ" }],
          excludes: { caps: ["CAP_SYS_ADMIN"], arches: ["s390", "s390x"] },
        },
        { names: ["clone3"], action: "SCMP_ACT_ERRNO", errnoRet: 38, excludes: { caps: ["CAP_SYS_ADMIN"] } },
        { names: ["personality"], action: "SCMP_ACT_ALLOW", args: [{ index: 0, value: 0xffff_ffff_ffff_ffffn, valueTwo: 0n, op: "SCMP_CMP_EQ" }] },
      ],
    });
  });

  test("a parsed profile compiles to what it says", () => {
    const profile = parseProfile(
      `{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["mount","frobnicate"],"action":"SCMP_ACT_ERRNO","errnoRet":13},
        {"names":["ioctl"],"action":"SCMP_ACT_KILL_PROCESS","args":[{"index":1,"value":4294967296,"op":"SCMP_CMP_GE"}]}]}`,
      "p.json",
    );
    for (const arch of ARCHES) compareAll(profile, arch, new Set());
  });

  test("no rules at all, and a default that allows: fine", () => {
    expect(parseProfile(`{"defaultAction":"SCMP_ACT_ALLOW"}`, "p.json")).toEqual({ defaultAction: "SCMP_ACT_ALLOW", syscalls: [] });
    expect(parseProfile(`{"defaultAction":"SCMP_ACT_ALLOW","syscalls":null,"architectures":["SCMP_ARCH_X86_64"]}`, "p.json").syscalls).toEqual([]);
  });

  const bad: [string, string, string][] = [
    ["bad JSON", `{"defaultAction": `, "seccomp profile p.json: not valid JSON ("],
    ["not an object", `[]`, "seccomp profile p.json: expected an object"],
    ["no default action", `{"syscalls": []}`, "seccomp profile p.json: defaultAction: missing; give one of SCMP_ACT_ALLOW, "],
    [
      "an unknown default action",
      `{"defaultAction": "SCMP_ACT_NOTIFY"}`,
      `defaultAction: unknown action "SCMP_ACT_NOTIFY" (known: SCMP_ACT_ALLOW, SCMP_ACT_ERRNO,`,
    ],
    [
      "an unknown field",
      `{"defaultAction": "SCMP_ACT_ALLOW", "flags": []}`,
      "seccomp profile p.json: unknown field 'flags' (known: defaultAction, defaultErrnoRet, architectures, archMap, syscalls)",
    ],
    [
      "an unknown action",
      `{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_DENY"}]}`,
      `syscalls[0].action: unknown action "SCMP_ACT_DENY"`,
    ],
    [
      "an unknown op",
      `{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 0, "value": 1, "op": "SCMP_CMP_IN"}]}]}`,
      `syscalls[0].args[0].op: unknown op "SCMP_CMP_IN" (known: SCMP_CMP_NE,`,
    ],
    [
      "names not an array",
      `{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": "read", "action": "SCMP_ACT_ERRNO"}]}`,
      "syscalls[0].names: expected an array",
    ],
    [
      "no names",
      `{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": [], "action": "SCMP_ACT_ERRNO"}]}`,
      "syscalls[0].names: expected a non-empty array of syscall names",
    ],
    [
      "a name that is not one",
      `{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read", 3], "action": "SCMP_ACT_ERRNO"}]}`,
      "syscalls[0].names[1]: expected a syscall name",
    ],
    [
      "an index past 5",
      `{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 6, "value": 1, "op": "SCMP_CMP_EQ"}]}]}`,
      "syscalls[0].args[0].index: expected an integer from 0 to 5",
    ],
    [
      "a negative value",
      `{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 0, "value": -1, "op": "SCMP_CMP_EQ"}]}]}`,
      "syscalls[0].args[0].value: expected an integer from 0 to 18446744073709551615",
    ],
    [
      "a value in quotes",
      `{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 0, "value": "1", "op": "SCMP_CMP_EQ"}]}]}`,
      "syscalls[0].args[0].value: expected an integer",
    ],
    [
      "a value past 64 bits",
      `{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ERRNO", "args": [{"index": 0, "value": 18446744073709551616, "op": "SCMP_CMP_EQ"}]}]}`,
      "syscalls[0].args[0].value: expected an integer from 0 to 18446744073709551615",
    ],
    [
      "an errno on ALLOW",
      `{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW", "errnoRet": 1}]}`,
      "syscalls[0].errnoRet: only SCMP_ACT_ERRNO and SCMP_ACT_TRACE take an errno, not SCMP_ACT_ALLOW",
    ],
    ["an errno too large", `{"defaultAction": "SCMP_ACT_ERRNO", "defaultErrnoRet": 5000}`, "defaultErrnoRet: expected an integer from 0 to 4095"],
    [
      "an unknown field in a rule",
      `{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"name": "read", "action": "SCMP_ACT_ERRNO"}]}`,
      "syscalls[0]: unknown field 'name' (known: names, action,",
    ],
    [
      "caps not strings",
      `{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ERRNO", "includes": {"caps": [true]}}]}`,
      "syscalls[0].includes.caps[0]: expected a string",
    ],
    [
      "a kernel above 5.6",
      `{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ERRNO", "includes": {"minKernel": "6.1"}}]}`,
      "syscalls[0].includes.minKernel: 6.1 is above Linux 5.6",
    ],
    [
      "minKernel in excludes",
      `{"defaultAction": "SCMP_ACT_ALLOW", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ERRNO", "excludes": {"minKernel": "4.8"}}]}`,
      "syscalls[0].excludes: unknown field 'minKernel' (known: caps, arches)",
    ],
    ["a bad architecture", `{"defaultAction": "SCMP_ACT_ALLOW", "architectures": ["x86_64"]}`, "architectures[0]: expected an SCMP_ARCH_* name"],
    ["architectures and archMap", `{"defaultAction": "SCMP_ACT_ALLOW", "architectures": [], "archMap": []}`, "give architectures or archMap, not both"],
  ];
  test.each(bad)("%s: one line naming the file and the place", (_, json, message) => {
    let error: unknown;
    try {
      parseProfile(json, "p.json");
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(MycfsError);
    const text = (error as MycfsError).message;
    expect(text).toStartWith("seccomp profile p.json: ");
    expect(text).toContain(message);
    expect(text).not.toContain("\n");
  });
});
