// Alpine Linux's minirootfs: {mirror}/{branch}/releases/{arch}/latest-releases.yaml lists
// each release flavour of a branch with its file name and digests.
import { MycfsError } from "../errors";
import type { ImageRef } from "./refs";

export const DEFAULT_MIRROR = "https://dl-cdn.alpinelinux.org/alpine";

/** Alpine's names for Node's process.arch. */
const ARCH: Record<string, string> = {
  x64: "x86_64",
  arm64: "aarch64",
  arm: "armv7",
  ia32: "x86",
  ppc64: "ppc64le",
  s390x: "s390x",
  riscv64: "riscv64",
};

export interface Release {
  url: string;
  version: string;
  sha256?: string;
  sha512?: string;
}

/** alpine → latest-stable, alpine:3.22 → v3.22, alpine:edge → edge. */
export function alpineBranch(ref: ImageRef): string {
  if (ref.tag === "latest") return "latest-stable";
  if (ref.tag === "edge") return "edge";
  if (/^3\.\d+$/.test(ref.tag)) return `v${ref.tag}`;
  throw new MycfsError(`${ref.display}: Alpine images are tagged latest, edge or a branch such as 3.22 (not a point release)`);
}

/** The entries of latest-releases.yaml: a YAML list of flat `key: value` maps. Read as
 * text, so that a digest never turns into a number. */
export function parseReleases(yaml: string): Record<string, string>[] {
  const entries: Record<string, string>[] = [];
  for (const line of yaml.split("\n")) {
    if (/^-(?!--)/.test(line)) entries.push({});
    const m = line.match(/^[-\s]+([A-Za-z0-9_]+):\s*"?(.*?)"?\s*$/);
    if (m && entries.length) entries[entries.length - 1]![m[1]!] = m[2]!;
  }
  return entries;
}

export function alpineIndexUrl(mirror: string, ref: ImageRef): string {
  const arch = ARCH[process.arch];
  if (!arch) throw new MycfsError(`Alpine has no minirootfs for this machine's architecture (${process.arch})`);
  return `${mirror.replace(/\/+$/, "")}/${alpineBranch(ref)}/releases/${arch}/latest-releases.yaml`;
}

export function alpineRelease(indexUrl: string, yaml: string): Release {
  const e = parseReleases(yaml).find((r) => r.flavor === "alpine-minirootfs");
  if (!e?.file || !(e.sha256 || e.sha512))
    throw new MycfsError(`${indexUrl} lists no alpine-minirootfs release with a digest; check the mirror (--mirror, $MYCFS_MIRROR)`);
  return { url: new URL(e.file, indexUrl).href, version: e.version ?? "", sha256: e.sha256, sha512: e.sha512 };
}
