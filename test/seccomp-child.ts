// Run by seccomp.unit.test.ts: installs the default profile's filter on this very process (no root
// needed once no_new_privs is set), makes the calls named in argv[2] (JSON: [name, ...args]),
// writes what each returned (-errno on failure) as JSON, then makes an x32 call if asked.
import { dlopen, ptr, read } from "bun:ffi";
import type { Arch } from "../src/seccomp/arch";
import { compileProfile } from "../src/seccomp/compile";
import { defaultProfile } from "../src/seccomp/default";
import { aarch64 } from "../src/seccomp/syscalls/aarch64";
import { x86_64 } from "../src/seccomp/syscalls/x86_64";

const arch: Arch = process.arch === "arm64" ? "aarch64" : "x86_64";
const table = arch === "x86_64" ? x86_64 : aarch64;
const { symbols: libc } = dlopen("libc.so.6", {
  syscall: { args: ["i64", "i64", "i64", "i64", "i64", "i64", "i64"], returns: "i64" },
  __errno_location: { returns: "ptr" },
});
const call = (nr: number, ...args: (number | bigint)[]) => {
  const r = Number(libc.syscall(nr, ...[...args, 0, 0, 0, 0, 0, 0].slice(0, 6)));
  return r < 0 ? -read.i32(libc.__errno_location()!, 0) : r;
};
const nr = (name: string) => table[name] ?? Number(name);

const PR_SET_NO_NEW_PRIVS = 38;
const SECCOMP_SET_MODE_FILTER = 1;
const filter = compileProfile(defaultProfile(), { arch, caps: new Set() });
// struct sock_fprog { unsigned short len; struct sock_filter *filter; }
const fprog = new BigUint64Array([BigInt(filter.length / 8), BigInt(ptr(filter))]);
const installed = [call(nr("prctl"), PR_SET_NO_NEW_PRIVS, 1), call(nr("seccomp"), SECCOMP_SET_MODE_FILTER, 0, ptr(fprog))];

const buf = new Uint8Array(64);
const results = (JSON.parse(process.argv[2]!) as [string, ...string[]][]).map(([name, ...args]) =>
  call(nr(name), ...args.map((a) => (a === "buf" ? ptr(buf) : BigInt(a)))),
);
// straight to fd 1, so it is out before an x32 call kills the process
const out = new TextEncoder().encode(JSON.stringify({ installed, results }));
call(nr("write"), 1, ptr(out), out.length);
if (process.argv[3] === "x32") call(0x40000000 | nr("getpid"));
