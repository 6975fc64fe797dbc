// The checked-in syscall tables must say what the kernel's UAPI headers on this machine say.
// The tables were written from these same functions; a failure's diff shows what to change.
import { expect, test } from "bun:test";
import { existsSync, readFileSync } from "node:fs";
import { aarch64 } from "../src/seccomp/syscalls/aarch64";
import { newer } from "../src/seccomp/syscalls/newer";
import { x86_64 } from "../src/seccomp/syscalls/x86_64";

const X86_64_HEADER = "/usr/include/x86_64-linux-gnu/asm/unistd_64.h";
const GENERIC_HEADER = "/usr/include/asm-generic/unistd.h";

/** `#define __NR_name 123` lines, as the x86_64 header lists them. */
function numbers(defines: string): Record<string, number> {
  const table: Record<string, number> = {};
  for (const [, name, nr] of defines.matchAll(/^#define __NR_(\w+)\s+(\d+)$/gm)) table[name!] = Number(nr);
  return table;
}

/**
 * aarch64 uses the generic table, with the __ARCH_WANT_* choices of the kernel's
 * arch/arm64/include/uapi/asm/unistd.h, 64-bit: the C preprocessor resolves the #ifs,
 * and `__NR_fstat __NR3264_fstat` style aliases are followed here.
 */
function genericTable(): Record<string, number> {
  const wants = ["RENAMEAT", "NEW_STAT", "SET_GET_RLIMIT", "TIME32_SYSCALLS", "SYS_CLONE3", "MEMFD_SECRET"];
  const cpp = Bun.spawnSync(["cc", "-E", "-dM", ...wants.map((w) => `-D__ARCH_WANT_${w}`), "-x", "c", "-"], {
    stdin: new TextEncoder().encode(`#include <asm-generic/unistd.h>\n`),
  });
  if (cpp.exitCode !== 0) throw new Error(`cc -E failed: ${cpp.stderr}`);
  const defines = cpp.stdout.toString();
  const table = numbers(defines);
  for (const [, name, base] of defines.matchAll(/^#define __NR_(\w+) __NR3264_(\w+)$/gm))
    table[name!] = Number(defines.match(new RegExp(`^#define __NR3264_${base} (\\d+)$`, "m"))![1]);
  // counts and markers, not system calls
  delete table.syscalls;
  delete table.arch_specific_syscall;
  return table;
}

test.skipIf(!existsSync(X86_64_HEADER))("the x86_64 table is the kernel header's", () => {
  expect({ ...x86_64 }).toEqual(numbers(readFileSync(X86_64_HEADER, "utf8")));
});

test.skipIf(!existsSync(GENERIC_HEADER))("the aarch64 table is the generic header's, as arm64 configures it", () => {
  expect({ ...aarch64 }).toEqual(genericTable());
});

test("aarch64: known numbers, and no legacy calls", () => {
  expect(aarch64).toMatchObject({ io_setup: 0, fcntl: 25, ioctl: 29, mount: 40, read: 63, fstat: 80, newfstatat: 79 });
  expect(aarch64).toMatchObject({ clone: 220, mmap: 222, bpf: 280, clone3: 435, memfd_secret: 447, renameat: 38, getrlimit: 163 });
  for (const legacy of ["open", "stat", "lstat", "fork", "vfork", "pipe", "dup2", "poll", "getdents", "epoll_wait", "mmap2", "fcntl64"])
    expect(aarch64).not.toHaveProperty(legacy);
  expect(x86_64).toMatchObject({ read: 0, ioctl: 16, clone: 56, fork: 57, mount: 165, clone3: 435 });
});

test("calls newer than the headers take no number of theirs, and agree with headers that have them", () => {
  const headers = {
    x86_64: existsSync(X86_64_HEADER) ? numbers(readFileSync(X86_64_HEADER, "utf8")) : x86_64,
    aarch64: existsSync(GENERIC_HEADER) ? genericTable() : aarch64,
  };
  for (const arch of ["x86_64", "aarch64"] as const) {
    const taken = new Map(Object.entries(arch === "x86_64" ? x86_64 : aarch64).map(([name, nr]) => [nr, name]));
    for (const [name, nr] of Object.entries(newer[arch])) {
      if (name in headers[arch]) expect([arch, name, headers[arch][name]]).toEqual([arch, name, nr]);
      else expect([arch, name, taken.get(nr)]).toEqual([arch, name, undefined]);
    }
  }
  expect(newer.x86_64).toMatchObject({ uretprobe: 335, cachestat: 451, fchmodat2: 452, mseal: 462, removexattrat: 466 });
  expect(newer.aarch64).not.toHaveProperty("uretprobe");
});
