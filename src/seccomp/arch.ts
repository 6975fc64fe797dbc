// The architectures a profile compiles for, and how a filter recognises each.
import { aarch64 } from "./syscalls/aarch64";
import { newer } from "./syscalls/newer";
import { x86_64 } from "./syscalls/x86_64";

export type Arch = "x86_64" | "aarch64";

export interface ArchInfo {
  /** AUDIT_ARCH_*, as the kernel reports it in seccomp_data.arch for the native ABI. */
  audit: number;
  /** Go's name for it, which Docker profiles use in includes/excludes.arches. */
  goArch: string;
  /** A Map, so that a name such as "constructor" finds nothing from Object.prototype. */
  syscalls: ReadonlyMap<string, number>;
  /** Numbers with this bit set belong to another ABI under the same AUDIT_ARCH (x32). */
  abiBit?: number;
}

export const ARCHES: Record<Arch, ArchInfo> = {
  // EM_X86_64 | __AUDIT_ARCH_64BIT | __AUDIT_ARCH_LE; __X32_SYSCALL_BIT
  x86_64: { audit: 0xc000003e, goArch: "amd64", syscalls: new Map(Object.entries({ ...x86_64, ...newer.x86_64 })), abiBit: 0x40000000 },
  // EM_AARCH64 | __AUDIT_ARCH_64BIT | __AUDIT_ARCH_LE
  aarch64: { audit: 0xc00000b7, goArch: "arm64", syscalls: new Map(Object.entries({ ...aarch64, ...newer.aarch64 })) },
};
