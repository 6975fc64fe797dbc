// The running kernel's version, for the features that came with one (id-mapped overlay
// layers, volatile overlays).
import { readFile } from "../native/lib";

let version: [number, number] | undefined;

/** [major, minor] of the running kernel; [0, 0] if it cannot be read. */
export function kernelVersion(): [number, number] {
  if (!version) {
    const [major = 0, minor = 0] = (readFile("/proc/sys/kernel/osrelease") ?? "").split(".").map((n) => parseInt(n, 10) || 0);
    version = [major, minor];
  }
  return version;
}

export function kernelAtLeast(major: number, minor: number): boolean {
  const [a, b] = kernelVersion();
  return a > major || (a === major && b >= minor);
}
