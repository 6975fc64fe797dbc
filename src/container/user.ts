// Who a container's process is: docker's -u NAME|UID[:GROUP|GID] and --group-add, resolved
// as docker resolves them (moby's getUser over runc's GetExecUser) in the /etc/passwd and
// /etc/group of the image or of the running container. A name must be there; a number need
// not be (uid 1000 without an entry has gid 0, as docker's). The supplementary groups are
// the primary group, the groups that list the user by name (only when no group is given),
// then --group-add's. The files are the image's: hostile, read through images/read-file.ts.
import { MycfsError } from "../errors";
import { readLayered } from "../images/read-file";
import { close, openDir, pidfdWait } from "../native/lib";
import type { IdMapping, ProcessUser } from "../spec/spec";

/** An image's or a container's account files (null: not there), and whose they are in
 * messages: "the image's", "the container's". */
export interface Accounts {
  passwd: string | null;
  group: string | null;
  whose: string;
}

/** Far more than any real /etc/passwd or /etc/group. */
const MAX_FILE = 1 << 20;

/** The account files of a stack of directories, the top one first: an image's layers, or
 * the root of a running container. */
export function readAccounts(dirs: number[], whose: string): Accounts {
  const read = (path: string) => readLayered(dirs, path, MAX_FILE, `${whose} ${path}`);
  return { passwd: read("/etc/passwd"), group: read("/etc/group"), whose };
}

/** A running container's account files, from the root of its first process (it may have
 * changed them since it started); `pidfd`: a pidfd of that process. */
export function containerAccounts(pid: number, pidfd: number): Accounts {
  const root = openDir(`/proc/${pid}/root`);
  try {
    // a pid is reused only once its process has ended: running still, it was its root we opened
    if (pidfdWait(pidfd, 0)) throw new MycfsError(`the container's process ${pid} ended while its /etc/passwd was read`);
    return readAccounts([root], "the container's");
  } finally {
    close(root);
  }
}

/** runc's bound on ids (moby/sys/user's maxID). */
const MAX_ID = 2 ** 31 - 1;

/** name:password:id:… lines, skipping comments and lines without a numeric id. */
function entries(text: string | null): string[][] {
  return (text ?? "")
    .split("\n")
    .map((l) => l.trim().split(":"))
    .filter((f) => f.length >= 3 && !f[0]!.startsWith("#") && /^\d+$/.test(f[2]!));
}

/** A numeric id, or null for a name. */
function numeric(s: string, what: string): number | null {
  if (!/^\d+$/.test(s)) return null;
  const n = Number(s);
  if (n > MAX_ID) throw new MycfsError(`${what}: ${s} is out of range (0 to ${MAX_ID})`);
  return n;
}

/** A group by name or gid, as --group-add and -u USER:GROUP give it: its gid. */
function groupId(spec: string, a: Accounts, what: string): number {
  const gid = numeric(spec, what);
  const found = entries(a.group).find((g) => (gid === null ? g[0] === spec : Number(g[2]) === gid));
  if (found) return Number(found[2]);
  if (gid === null) throw new MycfsError(`${what}: no group ${spec} in ${a.whose} /etc/group; give a group it lists, or a numeric gid`);
  return gid;
}

/** `spec`: NAME|UID[:GROUP|GID] ("" is root, as an image that sets no user); `what` names
 * where it came from in messages (-u bob, the image's User bob). */
export function resolveUser(spec: string, groupAdd: string[], a: Accounts, what: string): ProcessUser {
  const colon = spec.indexOf(":");
  const [name, group] = colon < 0 ? [spec, undefined] : [spec.slice(0, colon), spec.slice(colon + 1)];
  const uid = name === "" ? 0 : numeric(name, what);
  const entry = entries(a.passwd).find((u) => (uid === null ? u[0] === name : Number(u[2]) === uid));
  if (!entry && uid === null) throw new MycfsError(`${what}: no user ${name} in ${a.whose} /etc/passwd; give a user it lists, or a numeric uid`);
  const gid = group ? groupId(group, a, what) : entry ? Number(entry[3]) : 0;
  const listed = group || !entry ? [] : entries(a.group).filter((g) => (g[3] ?? "").split(",").includes(entry[0]!));
  const added = groupAdd.map((g) => groupId(g, a, `--group-add ${g}`));
  return {
    uid: uid ?? Number(entry![2]),
    gid,
    additionalGids: [...new Set([gid, ...listed.map((g) => Number(g[2])), ...added])],
    home: entry?.[5] || "/",
  };
}

/** The user with --group-add's groups too (exec's, over the container's own user). */
export function withGroups(user: ProcessUser, groupAdd: string[], a: Accounts): ProcessUser {
  const added = groupAdd.map((g) => groupId(g, a, `--group-add ${g}`));
  return { ...user, additionalGids: [...new Set([...user.additionalGids, ...added])] };
}

const mapped = (id: number, maps: IdMapping[]) => maps.some((m) => id >= m.containerID && id < m.containerID + m.size);

/** In a user namespace, every id of the user must be mapped: the kernel refuses the others. */
export function checkMapped(user: ProcessUser, uids: IdMapping[], gids: IdMapping[], what: string) {
  const unmapped = [
    ...(mapped(user.uid, uids) ? [] : [`uid ${user.uid}`]),
    ...[...new Set([user.gid, ...user.additionalGids])].filter((g) => !mapped(g, gids)).map((g) => `gid ${g}`),
  ];
  if (unmapped.length) throw new MycfsError(`${what}: ${unmapped.join(", ")} not mapped in the container's user namespace; map it with --uidmap and --gidmap`);
}

/** Rootless with only the caller's own id mapped, root is the one user there can be, and the
 * groups stay as they are (setgroups is denied there): --group-add cannot be honoured. */
export function checkOneId(user: ProcessUser, groupAdd: string[], what: string) {
  const refused = user.uid !== 0 || user.gid !== 0 ? what : groupAdd.length > 0 ? `--group-add ${groupAdd[0]}` : undefined;
  if (refused)
    throw new MycfsError(
      `${refused}: without root, and without subordinate ids of yours in /etc/subuid and /etc/subgid (and Debian's uidmap), the container's user namespace holds one id, root's: no other user or group can be in it`,
    );
}
