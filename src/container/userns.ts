// User namespaces: uid 0 inside is an unprivileged uid on the host. The maps are
// validated here and written by the parent while the child waits at its first sync point.
import { MycfsError } from "../errors";
import { readFile, writeFile } from "../native/lib";

export interface IdRange {
  inside: number;
  outside: number;
  size: number;
}

export interface Userns {
  uids: IdRange[];
  gids: IdRange[];
}

const MAX_ID = 2 ** 32 - 1;

/** --uidmap/--gidmap CONTAINER:HOST:SIZE */
export function parseIdMap(spec: string, flag: string): IdRange {
  const m = /^(\d+):(\d+):(\d+)$/.exec(spec);
  if (!m) throw new MycfsError(`${flag} ${spec}: expected CONTAINER:HOST:SIZE, e.g. 0:100000:65536`);
  const [inside, outside, size] = [Number(m[1]), Number(m[2]), Number(m[3])];
  if (size === 0 || inside + size > MAX_ID || outside + size > MAX_ID)
    throw new MycfsError(`${flag} ${spec}: the range must hold at least one id and stay below 2^32-1`);
  return { inside, outside, size };
}

/** Ranges may not overlap, inside or outside (the kernel refuses such a map). */
export function checkRanges(ranges: IdRange[], flag: string): IdRange[] {
  if (ranges.length > 340) throw new MycfsError(`${flag}: at most 340 ranges`);
  for (const [i, a] of ranges.entries())
    for (const b of ranges.slice(i + 1))
      for (const side of ["inside", "outside"] as const)
        if (a[side] < b[side] + b.size && b[side] < a[side] + a.size)
          throw new MycfsError(`${flag}: ranges ${a.inside}:${a.outside}:${a.size} and ${b.inside}:${b.outside}:${b.size} overlap ${side === "inside" ? "in the container" : "on the host"}`);
  return ranges;
}

/** /etc/subuid-style "name:start:count" lines; the first entry for `user`. */
export function subidRange(text: string | null, user: string): { start: number; count: number } | undefined {
  for (const line of (text ?? "").split("\n")) {
    const [name, start, count] = line.trim().split(":");
    if (name === user && start && count) return { start: Number(start), count: Number(count) };
  }
  return undefined;
}

export const AUTO_SIZE = 65536;

/** --userns=auto as root: /etc/subuid's and /etc/subgid's `mycfs` entries, or else a range
 * above every range those files hand out (to anyone), fixed so that files a container
 * leaves in volumes keep their owners from one run to the next. */
export function autoUserns(subuid: string | null, subgid: string | null): Userns {
  const uid = subidRange(subuid, "mycfs");
  const gid = subidRange(subgid, "mycfs");
  if (uid && gid) return { uids: [{ inside: 0, outside: uid.start, size: Math.min(uid.count, AUTO_SIZE) }], gids: [{ inside: 0, outside: gid.start, size: Math.min(gid.count, AUTO_SIZE) }] };
  let top = 1 << 30; // far above the uids that distributions give to users and services
  for (const text of [subuid, subgid])
    for (const line of (text ?? "").split("\n")) {
      const [, start, count] = line.split(":");
      if (start && count) top = Math.max(top, Number(start) + Number(count));
    }
  const start = Math.ceil(top / AUTO_SIZE) * AUTO_SIZE;
  const range = [{ inside: 0, outside: start, size: AUTO_SIZE }];
  return { uids: range, gids: range };
}

export function resolveUserns(mode: string | undefined, uidmap: string[], gidmap: string[]): Userns | undefined {
  if (uidmap.length || gidmap.length) {
    const uids = checkRanges(uidmap.map((m) => parseIdMap(m, "--uidmap")), "--uidmap");
    // podman's rule: one of the two given, the other follows it
    const gids = gidmap.length ? checkRanges(gidmap.map((m) => parseIdMap(m, "--gidmap")), "--gidmap") : uids;
    return { uids: uids.length ? uids : gids, gids };
  }
  if (mode === undefined || mode === "host" || mode === "") return undefined;
  if (mode !== "auto") throw new MycfsError(`--userns ${mode}: expected auto or host`);
  return autoUserns(readFile("/etc/subuid"), readFile("/etc/subgid"));
}

/** The host uid/gid that is root in the container. */
export function hostRoot(u: Userns): { uid: number; gid: number } {
  const find = (rs: IdRange[], what: string) => {
    const r = rs.find((x) => x.inside === 0);
    if (!r) throw new MycfsError(`${what}: the map must give the container a root (a range starting at 0)`);
    return r.outside;
  };
  return { uid: find(u.uids, "--uidmap"), gid: find(u.gids, "--gidmap") };
}

const mapText = (rs: IdRange[]) => rs.map((r) => `${r.inside} ${r.outside} ${r.size}\n`).join("");

/** Writes the child's maps (root may write any; setgroups stays allowed for root). */
export function writeMaps(pid: number, u: Userns) {
  writeFile(`/proc/${pid}/uid_map`, mapText(u.uids));
  writeFile(`/proc/${pid}/gid_map`, mapText(u.gids));
}
