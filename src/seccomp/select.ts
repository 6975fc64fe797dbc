// The filter a container gets: Docker's default profile, a Docker JSON profile from a
// file, or none (unconfined). build.ts compiles the default profile for docker's default
// capabilities ahead of time and the bundle carries it inline, so the common case costs
// a base64 decode instead of the compiler's milliseconds (or a file read's thread); Uint8Array's
// own, as Buffer's first use costs half a millisecond.
import prebuilt from "../../build/seccomp-default.json";
import { DEFAULT_CAPS } from "../container/caps";

/** `setting`: "default", "unconfined" or a profile's path; `caps`: names without CAP_. */
export async function seccompFilter(setting: string, caps: Set<string>): Promise<Uint8Array | null> {
  if (setting === "unconfined") return null;
  if (setting === "default" && caps.size === DEFAULT_CAPS.length && DEFAULT_CAPS.every((c) => caps.has(c))) return Uint8Array.fromBase64(prebuilt.bpf);
  const { compileFor } = await import("./filter");
  return compileFor(setting, caps);
}
