// User namespaces: uid 0 inside is an unprivileged uid on the host. The maps are
// validated here and written by the parent while the child waits at its first sync point.
import { MycfsError } from "../errors";
import { readFile, writeFile } from "../native/lib";
import type { IdMapping } from "../spec/spec";

export interface IdRange {
  inside: number;
  outside: number;
  size: number;
}

export interface Userns {
  uids: IdRange[];
  gids: IdRange[];
  /** Rootless: written by newuidmap/newgidmap (setuid helpers that check /etc/subuid), or,
   * for the caller's own single id, by mycfs after denying setgroups (the kernel's rule). */
  rootless?: "newidmap" | "own-id";
}

const MAX_ID = 2 ** 32 - 1;

/** The spec's mappings (config.json's names) as ranges. */
export const idRanges = (m: IdMapping[]): IdRange[] => m.map((x) => ({ inside: x.containerID, outside: x.hostID, size: x.size }));

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
          throw new MycfsError(
            `${flag}: ranges ${a.inside}:${a.outside}:${a.size} and ${b.inside}:${b.outside}:${b.size} overlap ${side === "inside" ? "in the container" : "on the host"}`,
          );
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
  if (uid && gid)
    return {
      uids: [{ inside: 0, outside: uid.start, size: Math.min(uid.count, AUTO_SIZE) }],
      gids: [{ inside: 0, outside: gid.start, size: Math.min(gid.count, AUTO_SIZE) }],
    };
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

/** What --userns, --uidmap and --gidmap ask for: a namespace with these maps, "host" (none,
 * asked for by name), or nothing said. */
export function resolveUserns(mode: string | undefined, uidmap: string[], gidmap: string[]): Userns | "host" | undefined {
  if (uidmap.length || gidmap.length) {
    const uids = checkRanges(
      uidmap.map((m) => parseIdMap(m, "--uidmap")),
      "--uidmap",
    );
    // podman's rule: one of the two given, the other follows it
    const gids = gidmap.length
      ? checkRanges(
          gidmap.map((m) => parseIdMap(m, "--gidmap")),
          "--gidmap",
        )
      : uids;
    return { uids: uids.length ? uids : gids, gids };
  }
  if (mode === undefined || mode === "") return undefined;
  if (mode === "host") return "host";
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

/** Without root: uid 0 inside is the caller. With newuidmap/newgidmap installed and an
 * /etc/subuid entry, ids 1-N map to the caller's subordinate range, so that tools which
 * chown (apk, apt) work; otherwise the caller's own id is the only one. */
export function rootlessUserns(uid: number, gid: number, user: string, subuid: string | null, subgid: string | null, helpers: boolean): Userns {
  const su = subidRange(subuid, user) ?? subidRange(subuid, String(uid));
  const sg = subidRange(subgid, user) ?? subidRange(subgid, String(gid));
  if (helpers && su && sg)
    return {
      uids: [
        { inside: 0, outside: uid, size: 1 },
        { inside: 1, outside: su.start, size: su.count },
      ],
      gids: [
        { inside: 0, outside: gid, size: 1 },
        { inside: 1, outside: sg.start, size: sg.count },
      ],
      rootless: "newidmap",
    };
  return { uids: [{ inside: 0, outside: uid, size: 1 }], gids: [{ inside: 0, outside: gid, size: 1 }], rootless: "own-id" };
}

const mapText = (rs: IdRange[]) => rs.map((r) => `${r.inside} ${r.outside} ${r.size}\n`).join("");

/** Writes the child's maps. Root may write any map; an unprivileged caller only its own
 * ids, after denying setgroups, or any it is given in /etc/subuid through newuidmap. */
export function writeMaps(pid: number, u: Userns) {
  if (u.rootless === "newidmap") {
    for (const [tool, ranges] of [
      ["newuidmap", u.uids],
      ["newgidmap", u.gids],
    ] as const) {
      const args = ranges.flatMap((r) => [r.inside, r.outside, r.size].map(String));
      const p = Bun.spawnSync([tool, String(pid), ...args], { stderr: "pipe" });
      if (p.exitCode !== 0) throw new MycfsError(`${tool} ${pid} ${args.join(" ")}: ${p.stderr.toString().trim()}`);
    }
    return;
  }
  if (u.rootless === "own-id") writeFile(`/proc/${pid}/setgroups`, "deny");
  writeFile(`/proc/${pid}/uid_map`, mapText(u.uids));
  writeFile(`/proc/${pid}/gid_map`, mapText(u.gids));
}

/** Why this host refuses user namespaces (to `uid`), with how to allow them; null if it does not. */
export function usernsRefusal(read: (path: string) => string | null, uid: number): string | null {
  const value = (p: string) => read(p)?.trim();
  if (value("/proc/sys/user/max_user_namespaces") === "0")
    return "user namespaces are disabled (user.max_user_namespaces = 0); allow them with: sysctl -w user.max_user_namespaces=15000";
  if (uid === 0) return null;
  if (value("/proc/sys/kernel/unprivileged_userns_clone") === "0")
    return "unprivileged user namespaces are disabled (kernel.unprivileged_userns_clone = 0); allow them with: sysctl -w kernel.unprivileged_userns_clone=1, or run mycfs with sudo";
  if (value("/proc/sys/kernel/apparmor_restrict_unprivileged_userns") === "1")
    return "AppArmor restricts unprivileged user namespaces (kernel.apparmor_restrict_unprivileged_userns = 1); give mycfs an AppArmor profile that allows `userns,`, set that sysctl to 0, or run mycfs with sudo";
  return null;
}

/** The user namespace a container gets: as asked (--userns, --uidmap) when root; always
 * one of the caller's own ids when not. Refused early, and named, where the host forbids it.
 * Without root, --userns host cannot be had: only a user namespace lets an ordinary user
 * make the others (podman's rootless "host" is the namespace podman itself runs in, which
 * mycfs has no equivalent of), so it is refused rather than quietly ignored. */
export function containerUserns(asked: Userns | "host" | undefined): Userns | undefined {
  const uid = process.getuid?.() ?? 0;
  if (uid !== 0 && asked === "host")
    throw new MycfsError(
      "--userns host: without root a container needs a user namespace of its own (root inside is you); drop the flag, or run mycfs with sudo",
    );
  if (uid !== 0 && asked)
    throw new MycfsError("--userns/--uidmap/--gidmap: without root, mycfs maps root in the container to you (and your /etc/subuid range); drop the flag");
  if (asked === "host") return undefined;
  const userns =
    uid === 0
      ? asked
      : rootlessUserns(
          uid,
          process.getgid?.() ?? uid,
          userName(uid),
          readFile("/etc/subuid"),
          readFile("/etc/subgid"),
          Bun.which("newuidmap") !== null && Bun.which("newgidmap") !== null,
        );
  const refusal = userns && usernsRefusal(readFile, uid);
  if (refusal) throw new MycfsError(refusal);
  return userns;
}

function userName(uid: number): string {
  const line = (readFile("/etc/passwd") ?? "").split("\n").find((l) => l.split(":")[2] === String(uid));
  return line?.split(":")[0] ?? String(uid);
}
