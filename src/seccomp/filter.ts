// The filter a container gets: Docker's default profile, a Docker JSON profile from a
// file, or none (unconfined), compiled for this machine and the capabilities kept.
import { MycfsError } from "../errors";
import { readFile } from "../native/lib";
import type { Arch } from "./arch";
import { compileProfile } from "./compile";
import { defaultProfile } from "./default";
import { parseProfile } from "./parse";

export function hostArch(): Arch {
  if (process.arch === "x64") return "x86_64";
  if (process.arch === "arm64") return "aarch64";
  throw new MycfsError(`seccomp: no syscall table for ${process.arch}; run with --security-opt seccomp=unconfined`);
}

/** `setting`: "default", "unconfined" or a profile's path; `caps`: names without CAP_. */
export function seccompFilter(setting: string, caps: Set<string>): Uint8Array | null {
  if (setting === "unconfined") return null;
  let profile = defaultProfile();
  if (setting !== "default") {
    const text = readFile(setting, 4 << 20);
    if (text === null) throw new MycfsError(`--security-opt seccomp=${setting}: cannot read the profile; give the path of a Docker JSON seccomp profile`);
    profile = parseProfile(text, setting);
  }
  return compileProfile(profile, { arch: hostArch(), caps: new Set([...caps].map((c) => `CAP_${c}`)) });
}
