// Platforms as docker picks them from an index (containerd's platforms package): names
// normalized (x86_64 → amd64, aarch64 → arm64, whose variant v8 is its only one and so the
// same as none; armhf → arm/v7), then ranked: the platform itself first, then what its CPU
// also runs (arm64 runs arm/v8 down to arm/v5; arm/v7 runs v6 and v5; amd64 runs 386).
//
//   hostPlatform(): Platform                    this machine's, linux/amd64 on x86_64
//   parsePlatform(s): Platform                  --platform os/arch[/variant], or arch alone
//   platformRank(want, have): number | null     0 best; null: `have` does not run here
//   formatPlatform(p): string                   linux/arm64, linux/arm/v7
import { MycfsError } from "../errors";
import type { Platform } from "../images/config";

const ARCH: Record<string, [arch: string, variant?: string]> = {
  x86_64: ["amd64"],
  "x86-64": ["amd64"],
  amd64: ["amd64"],
  i386: ["386"],
  "386": ["386"],
  aarch64: ["arm64"],
  arm64: ["arm64"],
  armhf: ["arm", "v7"],
  armel: ["arm", "v6"],
  arm: ["arm", "v7"],
};
const KNOWN_OS = new Set(["linux", "windows", "darwin", "freebsd", "netbsd", "openbsd", "solaris", "illumos", "aix", "android", "ios", "plan9"]);

export function normalizePlatform(p: Platform): Platform {
  const os = p.os.toLowerCase() === "macos" ? "darwin" : p.os.toLowerCase();
  const [architecture, defaultVariant] = ARCH[p.architecture.toLowerCase()] ?? [p.architecture.toLowerCase()];
  let variant = p.variant?.toLowerCase() || defaultVariant || "";
  if (/^\d+$/.test(variant)) variant = `v${variant}`;
  // the only variant of its architecture: the same as none
  if ((architecture === "arm64" && variant === "v8") || (architecture === "amd64" && variant === "v1")) variant = "";
  return { os, architecture, ...(variant && { variant }) };
}

export function hostPlatform(): Platform {
  const arch = { x64: "amd64", ia32: "386", ppc64: "ppc64le" }[process.arch as string] ?? process.arch;
  return normalizePlatform({ os: "linux", architecture: arch });
}

export function parsePlatform(input: string): Platform {
  const parts = input.split("/");
  const bad = () => new MycfsError(`platform '${input}' is not valid: give os/arch[/variant], like linux/arm64 or linux/arm/v7`);
  if (parts.some((p) => !/^[A-Za-z0-9_.-]+$/.test(p)) || parts.length > 3) throw bad();
  if (parts.length === 1) {
    const [only] = parts as [string];
    if (KNOWN_OS.has(only.toLowerCase())) return normalizePlatform({ ...hostPlatform(), variant: undefined, os: only });
    if (ARCH[only.toLowerCase()]) return normalizePlatform({ os: "linux", architecture: only });
    throw bad();
  }
  const [os, architecture, variant] = parts as [string, string, string?];
  return normalizePlatform({ os, architecture, variant });
}

export const formatPlatform = (p: Platform) => [p.os, p.architecture, p.variant].filter(Boolean).join("/");

/** The platforms a machine of `want` runs, best first. */
function runs(want: Platform): Platform[] {
  const w = normalizePlatform(want);
  const arm = (from: number) => [8, 7, 6, 5].filter((v) => v <= from).map((v) => ({ os: w.os, architecture: "arm", variant: `v${v}` }));
  if (w.architecture === "arm64") return [w, ...arm(8)];
  if (w.architecture === "arm") return arm(Number(w.variant?.slice(1)) || 7);
  if (w.architecture === "amd64") return [w, { os: w.os, architecture: "386" }];
  return [w];
}

export function platformRank(want: Platform, have: Platform): number | null {
  const h = formatPlatform(normalizePlatform(have));
  const rank = runs(want).findIndex((p) => formatPlatform(p) === h);
  return rank < 0 ? null : rank;
}
