// Compiling a profile for this machine and the capabilities a container keeps. Loaded
// only when needed (see select.ts), and by build.ts to prebuild the default filter.
import { MycfsError } from "../errors";
import { readFile } from "../native/lib";
import type { Arch } from "./arch";

export function hostArch(): Arch {
  if (process.arch === "x64") return "x86_64";
  if (process.arch === "arm64") return "aarch64";
  throw new MycfsError(`seccomp: no syscall table for ${process.arch}; run with --security-opt seccomp=unconfined`);
}

/** `setting`: "default" or a Docker JSON profile's path; `caps`: names without CAP_;
 * `arch`: this machine's, or a release target's (build.ts). */
export async function compileFor(setting: string, caps: Iterable<string>, arch: Arch = hostArch()): Promise<Uint8Array> {
  const [{ compileProfile }, { defaultProfile }, { parseProfile }] = await Promise.all([import("./compile"), import("./default"), import("./parse")]);
  let profile = defaultProfile();
  if (setting !== "default") {
    const text = readFile(setting, 4 << 20);
    if (text === null) throw new MycfsError(`--security-opt seccomp=${setting}: cannot read the profile; give the path of a Docker JSON seccomp profile`);
    profile = parseProfile(text, setting);
  }
  return compileProfile(profile, { arch, caps: new Set([...caps].map((c) => `CAP_${c}`)) });
}
