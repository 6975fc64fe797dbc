// config.json's linux.seccomp, converted and compiled for this host, then run through a
// small BPF machine: the shapes runc and podman write, and every field mycfs refuses.
import { describe, expect, test } from "bun:test";
import { ociSeccompFilter, ociSeccompFilterFromConfig, ociSeccompProfile } from "../src/oci/seccomp";
import { aarch64 } from "../src/seccomp/syscalls/aarch64";
import { x86_64 } from "../src/seccomp/syscalls/x86_64";
import { run, seccompData, verify } from "./bpf-machine";

const x64 = process.arch === "x64";
const TABLE: Readonly<Record<string, number>> = x64 ? x86_64 : aarch64;
const AUDIT = x64 ? 0xc000003e : 0xc00000b7;
const ALLOW = 0x7fff0000;
const KILL_THREAD = 0;
const KILL_PROCESS = 0x80000000;
const LOG = 0x7ffc0000;
const errno = (e: number) => 0x00050000 | e;
const [EPERM, ENOENT, EACCES, ENOSYS] = [1, 2, 13, 38];

/** The filter's answer to one call of this host's architecture. */
function answer(seccomp: unknown, name: string, args: bigint[] = []): number {
  const prog = ociSeccompFilter(seccomp)!;
  verify(prog);
  const nr = TABLE[name];
  if (nr === undefined) throw new Error(`no ${name} here`);
  return run(prog, seccompData(nr, AUDIT, args)).ret;
}

const refusal = (seccomp: unknown) => {
  try {
    ociSeccompFilter(seccomp);
  } catch (e) {
    return (e as Error).message;
  }
  return "accepted";
};

describe("OCI seccomp: what runc and podman write", () => {
  // the shape of containers-common's seccomp.json as podman writes it into config.json
  const podmanLike = {
    defaultAction: "SCMP_ACT_ERRNO",
    defaultErrnoRet: ENOSYS,
    architectures: ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
    flags: ["SECCOMP_FILTER_FLAG_TSYNC"],
    syscalls: [
      { names: ["read", "write", "openat", "close", "exit_group", "no_such_call_anywhere"], action: "SCMP_ACT_ALLOW" },
      { names: ["bdflush", "io_pgetevents"], action: "SCMP_ACT_ERRNO", errnoRet: EPERM },
      { names: ["personality"], action: "SCMP_ACT_ALLOW", args: [{ index: 0, value: 0, op: "SCMP_CMP_EQ" }] },
      { names: ["personality"], action: "SCMP_ACT_ALLOW", args: [{ index: 0, value: 8, valueTwo: 0, op: "SCMP_CMP_EQ" }] },
      { names: ["clone"], action: "SCMP_ACT_ALLOW", args: [{ index: 0, value: 2114060288, valueTwo: 0, op: "SCMP_CMP_MASKED_EQ" }] },
      { names: ["mkdirat"], action: "SCMP_ACT_ERRNO", errnoRet: EACCES },
      { names: ["getpid"], action: "SCMP_ACT_LOG" },
      { names: ["kill"], action: "SCMP_ACT_KILL_PROCESS", args: [{ index: 1, value: 9, op: "SCMP_CMP_EQ" }] },
    ],
  };

  test("defaultErrnoRet answers what no rule names", () => {
    expect(answer(podmanLike, "mount")).toBe(errno(ENOSYS));
    expect(answer(podmanLike, "read")).toBe(ALLOW);
  });

  test("errnoRet per rule; EPERM when ERRNO has none", () => {
    expect(answer(podmanLike, "mkdirat")).toBe(errno(EACCES));
    expect(answer({ defaultAction: "SCMP_ACT_ALLOW", syscalls: [{ names: ["mkdirat"], action: "SCMP_ACT_ERRNO" }] }, "mkdirat")).toBe(errno(EPERM));
    expect(answer({ defaultAction: "SCMP_ACT_ERRNO" }, "read")).toBe(errno(EPERM));
  });

  test("argument conditions: EQ, MASKED_EQ, first match wins, the default otherwise", () => {
    expect(answer(podmanLike, "personality", [0n])).toBe(ALLOW);
    expect(answer(podmanLike, "personality", [8n])).toBe(ALLOW);
    expect(answer(podmanLike, "personality", [0xffffffffn])).toBe(errno(ENOSYS));
    const SIGCHLD = 17n;
    const CLONE_NEWUSER = 0x10000000n;
    expect(answer(podmanLike, "clone", [SIGCHLD])).toBe(ALLOW);
    expect(answer(podmanLike, "clone", [SIGCHLD | CLONE_NEWUSER])).toBe(errno(ENOSYS));
    expect(answer(podmanLike, "kill", [1n, 9n])).toBe(KILL_PROCESS);
    expect(answer(podmanLike, "kill", [1n, 15n])).toBe(errno(ENOSYS));
    expect(answer(podmanLike, "getpid")).toBe(LOG);
  });

  test("every comparison, and u64 values above 2^53 kept exact from config.json's text", () => {
    const rule = (op: string, value: number | string, valueTwo?: number) => ({
      defaultAction: "SCMP_ACT_ALLOW",
      syscalls: [{ names: ["read"], action: "SCMP_ACT_ERRNO", args: [{ index: 2, value, valueTwo, op }] }],
    });
    const cases: [string, number, bigint, boolean][] = [
      ["SCMP_CMP_NE", 5, 5n, false],
      ["SCMP_CMP_NE", 5, 6n, true],
      ["SCMP_CMP_LT", 5, 4n, true],
      ["SCMP_CMP_LT", 5, 5n, false],
      ["SCMP_CMP_LE", 5, 5n, true],
      ["SCMP_CMP_GE", 5, 5n, true],
      ["SCMP_CMP_GE", 5, 4n, false],
      ["SCMP_CMP_GT", 5, 1n << 32n, true],
      ["SCMP_CMP_GT", 5, 5n, false],
      ["SCMP_CMP_EQ", 5, 5n | (1n << 32n), false],
    ];
    for (const [op, value, x, denied] of cases) expect([op, x, answer(rule(op, value), "read", [0n, 0n, x])]).toEqual([op, x, denied ? errno(EPERM) : ALLOW]);
    // a 64-bit value as JSON text: JSON.parse would round it, the config reader does not
    const big = 0xffff_ffff_ffff_fff0n;
    const config = `{"ociVersion":"1.1.0","linux":{"seccomp":{"defaultAction":"SCMP_ACT_ALLOW","syscalls":[{"names":["read"],"action":"SCMP_ACT_ERRNO","args":[{"index":0,"value":${big},"op":"SCMP_CMP_EQ"}]}]}}}`;
    const prog = ociSeccompFilterFromConfig(config)!;
    expect(run(prog, seccompData(TABLE.read!, AUDIT, [big])).ret).toBe(errno(EPERM));
    expect(run(prog, seccompData(TABLE.read!, AUDIT, [big + 1n])).ret).toBe(ALLOW);
    // the rounded number JSON.parse makes of it is refused, not compared with
    expect(refusal(JSON.parse(config).linux.seccomp)).toStartWith("linux.seccomp.syscalls[0].args[0].value: expected an integer");
    expect(ociSeccompFilterFromConfig('{"ociVersion":"1.1.0"}')).toBeNull();
  });

  test("one index tested twice in a rule: either condition matches, as runc splits them", () => {
    const seccomp = {
      defaultAction: "SCMP_ACT_ALLOW",
      syscalls: [
        {
          names: ["socket"],
          action: "SCMP_ACT_ERRNO",
          args: [
            { index: 0, value: 16, op: "SCMP_CMP_EQ" }, // AF_NETLINK
            { index: 0, value: 40, op: "SCMP_CMP_EQ" }, // AF_VSOCK
          ],
        },
      ],
    };
    expect(ociSeccompProfile(seccomp).syscalls).toHaveLength(2);
    expect(answer(seccomp, "socket", [16n])).toBe(errno(EPERM));
    expect(answer(seccomp, "socket", [40n])).toBe(errno(EPERM));
    expect(answer(seccomp, "socket", [2n])).toBe(ALLOW);
    // different indexes in one rule: all must hold
    const both = {
      defaultAction: "SCMP_ACT_ALLOW",
      syscalls: [
        {
          names: ["socket"],
          action: "SCMP_ACT_ERRNO",
          args: [
            { index: 0, value: 2, op: "SCMP_CMP_EQ" },
            { index: 1, value: 3, op: "SCMP_CMP_EQ" },
          ],
        },
      ],
    };
    expect(answer(both, "socket", [2n, 3n])).toBe(errno(EPERM));
    expect(answer(both, "socket", [2n, 1n])).toBe(ALLOW);
  });

  test("unknown syscall names are ignored, as runc does; the known ones in the rule still apply", () => {
    const seccomp = {
      defaultAction: "SCMP_ACT_ALLOW",
      syscalls: [{ names: ["not_a_syscall", "constructor", "mkdirat"], action: "SCMP_ACT_ERRNO", errnoRet: ENOENT }],
    };
    expect(answer(seccomp, "mkdirat")).toBe(errno(ENOENT));
    expect(answer({ defaultAction: "SCMP_ACT_ALLOW", syscalls: [{ names: ["not_a_syscall"], action: "SCMP_ACT_KILL" }] }, "read")).toBe(ALLOW);
  });

  test("architectures: any known list; the host's own is filtered, other ABIs are killed", () => {
    const seccomp = { defaultAction: "SCMP_ACT_ALLOW", architectures: ["SCMP_ARCH_PPC64LE"] };
    const prog = ociSeccompFilter(seccomp)!;
    expect(run(prog, seccompData(TABLE.read!, AUDIT)).ret).toBe(ALLOW);
    expect(run(prog, seccompData(3, 0x40000003)).ret).toBe(KILL_PROCESS); // i386
    expect(ociSeccompProfile(seccomp).architectures).toEqual(["SCMP_ARCH_PPC64LE"]);
    expect(answer({ defaultAction: "SCMP_ACT_KILL" }, "read")).toBe(KILL_THREAD);
  });

  test("no linux.seccomp: no filter", () => {
    expect(ociSeccompFilter(undefined)).toBeNull();
    expect(ociSeccompFilter(null)).toBeNull();
  });
});

describe("OCI seccomp: what mycfs cannot honour is refused, one line naming the field", () => {
  const base = { defaultAction: "SCMP_ACT_ALLOW" };
  test.each([
    [{ ...base, listenerPath: "/run/seccomp.sock" }, "linux.seccomp.listenerPath: mycfs does not support seccomp notify listeners"],
    [{ ...base, listenerMetadata: "x" }, "linux.seccomp.listenerMetadata: mycfs does not support seccomp notify listeners"],
    [{ defaultAction: "SCMP_ACT_NOTIFY" }, "linux.seccomp.defaultAction: SCMP_ACT_NOTIFY: mycfs does not support seccomp notify listeners"],
    [
      { ...base, syscalls: [{ names: ["read"], action: "SCMP_ACT_NOTIFY" }] },
      "linux.seccomp.syscalls[0].action: SCMP_ACT_NOTIFY: mycfs does not support seccomp notify listeners",
    ],
    [
      { ...base, flags: ["SECCOMP_FILTER_FLAG_TSYNC", "SECCOMP_FILTER_FLAG_LOG"] },
      "linux.seccomp.flags[1]: mycfs does not support SECCOMP_FILTER_FLAG_LOG (it installs the filter without flags); remove it",
    ],
    [{ ...base, flags: ["SECCOMP_FILTER_FLAG_SPEC_ALLOW"] }, "linux.seccomp.flags[0]: mycfs does not support SECCOMP_FILTER_FLAG_SPEC_ALLOW"],
    [{ ...base, flags: ["SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"] }, "linux.seccomp.flags[0]: mycfs does not support SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV"],
    [{ ...base, flags: ["FAST"] }, 'linux.seccomp.flags[0]: unknown flag "FAST"'],
    [{ ...base, architectures: ["SCMP_ARCH_Z80"] }, 'linux.seccomp.architectures[0]: unknown architecture "SCMP_ARCH_Z80"'],
    [{}, "linux.seccomp.defaultAction: missing; give one of SCMP_ACT_ALLOW"],
    [{ defaultAction: "SCMP_ACT_ALLOW", defaultErrnoRet: 1 }, "linux.seccomp.defaultErrnoRet: only SCMP_ACT_ERRNO and SCMP_ACT_TRACE take an errno"],
    [{ ...base, syscalls: [{ names: ["read"], action: "SCMP_ACT_KILL", errnoRet: 1 }] }, "linux.seccomp.syscalls[0].errnoRet: only SCMP_ACT_ERRNO"],
    [
      { ...base, syscalls: [{ names: ["read"], action: "SCMP_ACT_ERRNO", errnoRet: 5000 }] },
      "linux.seccomp.syscalls[0].errnoRet: expected an integer from 0 to 4095",
    ],
    [{ ...base, syscalls: [{ names: [], action: "SCMP_ACT_ERRNO" }] }, "linux.seccomp.syscalls[0].names: expected a non-empty array"],
    [
      { ...base, syscalls: [{ names: ["read"], action: "SCMP_ACT_ERRNO", args: [{ index: 6, value: 1, op: "SCMP_CMP_EQ" }] }] },
      "linux.seccomp.syscalls[0].args[0].index: expected an integer from 0 to 5",
    ],
    [
      { ...base, syscalls: [{ names: ["read"], action: "SCMP_ACT_ERRNO", args: [{ index: 0, value: 1, op: "SCMP_CMP_ABOUT" }] }] },
      'linux.seccomp.syscalls[0].args[0].op: unknown op "SCMP_CMP_ABOUT"',
    ],
    [{ ...base, syscalls: [{ names: ["read"], action: "SCMP_ACT_ALLOW", includes: {} }] }, "linux.seccomp.syscalls[0]: unknown field 'includes'"],
    [{ ...base, archMap: [] }, "linux.seccomp: unknown field 'archMap'"],
    ["SCMP_ACT_ALLOW", "linux.seccomp: expected an object"],
  ])("%j", (seccomp, message) => {
    const got = refusal(seccomp);
    expect(got).toStartWith(message);
    expect(got.split("\n")).toHaveLength(1);
  });
});
