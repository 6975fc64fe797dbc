// Turns what the user typed into validated values. Pure functions: every error names
// the input and the fix, and is raised before anything is created on disk.
import { normalize, resolve } from "../paths";
import { EXIT_NOT_FOUND, MycfsError } from "../errors";
import { fileType, readLink, S_IFMT } from "../native/lib";

export const DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

export interface Volume {
  host: string;
  container: string;
  readOnly: boolean;
  isDir: boolean;
}

/** A --tmpfs mount: its options as the spec's mounts take them (flag names, then tmpfs's
 * own name=value options). */
export interface Tmpfs {
  path: string;
  options: string[];
}

/** An absolute, normalised path inside the container. */
export function containerPath(p: string, what: string): string {
  if (!p.startsWith("/")) throw new MycfsError(`${what} '${p}' must be an absolute path inside the container`);
  const norm = normalize(p);
  return norm.length > 1 ? norm.replace(/\/$/, "") : norm;
}

/** Where mycfs mounts the container's kernel file systems, with what a mount there would
 * hide. A volume or tmpfs at or below one of these would hide it or land inside it (on
 * /proc: runc refuses that, CVE-2019-19921), or, for the links mycfs makes in /dev, be
 * resolved into /proc or devpts. /dev itself is refused too (it holds devpts and the device
 * nodes); below it anything else may be mounted: it hides only the node or directory it
 * lands on, and docker's `-v /dev/shm:/dev/shm` shares shared memory that way. */
const KERNEL_FS: [path: string, hidden: string][] = [
  ["/proc", "the container's /proc"],
  ["/sys", "the container's /sys and its cgroups"],
  ["/dev/pts", "the container's devpts"],
  ["/dev/ptmx", "the container's devpts (a link into it)"],
  ...["/dev/fd", "/dev/stdin", "/dev/stdout", "/dev/stderr"].map((p): [string, string] => [p, "the container's /proc (a link into it)"]),
];

/** A mount target that hides none of the container's kernel file systems; `as` is where
 * the root file system's symlinks take it, when they do. */
function mountTarget(path: string, what: string, as = path): string {
  const hidden = as === "/dev" ? "the container's /dev and its devpts" : KERNEL_FS.find(([k]) => as === k || as.startsWith(`${k}/`))?.[1];
  const where = as === path ? path : `${path} (${as}, through the root file system's symlinks)`;
  if (hidden) throw new MycfsError(`${what}: a mount on ${where} would hide or reach into ${hidden}; choose another path`);
  return path;
}

/** Where `path` leads in the root file system at `root`, a host directory, through its
 * symlinks, as the child's openat2(RESOLVE_IN_ROOT) will take it: an absolute link starts
 * again at the root, and `..` stops there. */
export function inRoot(root: string, path: string): string {
  const todo = path.split("/").filter(Boolean);
  const done: string[] = [];
  for (let links = 0; todo.length > 0; ) {
    const name = todo.shift()!;
    if (name === "..") done.pop();
    if (name === "." || name === "..") continue;
    const link = links < 40 ? readLink(`${root}/${[...done, name].join("/")}`) : null; // the kernel's limit, too
    if (link === null) done.push(name);
    else {
      links++;
      if (link.startsWith("/")) done.length = 0;
      todo.unshift(...link.split("/").filter(Boolean));
    }
  }
  return `/${done.join("/")}`;
}

/** The volumes and tmpfs mounts, checked again where the image's symlinks lead them: an
 * image with /data -> /proc would otherwise put `-v SRC:/data` over the container's /proc
 * (runc checks after resolving symlinks too). In each of the image's layers: a symlink in
 * any of them may be the one the container sees. A volume's own symlinks, or a path swapped
 * while the container starts, are not seen here; the child resolves every target inside
 * the root all the same, so the host is never reached. */
export function checkTargetsIn(roots: string[], volumes: Volume[], tmpfs: Tmpfs[]) {
  for (const root of roots) {
    for (const v of volumes) mountTarget(v.container, `-v ${v.host}:${v.container}`, inRoot(root, v.container));
    for (const t of tmpfs) mountTarget(t.path, `--tmpfs ${t.path}`, inRoot(root, t.path));
  }
}

/** -v HOST:CONTAINER[:ro|rw] */
export function parseVolume(spec: string): Volume {
  const parts = spec.split(":");
  if (parts.length < 2 || parts.length > 3 || !parts[0] || !parts[1]) throw new MycfsError(`-v ${spec}: expected HOST:CONTAINER[:ro]`);
  const [hostPart, ctr, mode = "rw"] = parts as [string, string, string?];
  if (mode !== "ro" && mode !== "rw") throw new MycfsError(`-v ${spec}: unknown mode '${mode}', use ro or rw`);
  if (!hostPart.startsWith("/") && !hostPart.startsWith("."))
    throw new MycfsError(`-v ${spec}: named volumes are not supported; give a host path (absolute or ./relative)`);
  const host = resolve(hostPart);
  const type = fileType(host);
  if (type === null) throw new MycfsError(`-v ${spec}: host path ${host} does not exist; create it first`);
  const isDir = type === S_IFMT.DIR;
  const container = mountTarget(containerPath(ctr, `-v ${spec}: container path`), `-v ${spec}`);
  if (container === "/") throw new MycfsError(`-v ${spec}: cannot mount over the container's root`);
  return { host, container, readOnly: mode === "ro", isDir };
}

/** Each flag option and the option that undoes it. */
const tmpfsFlags = new Map([
  ["ro", "rw"],
  ["nosuid", "suid"],
  ["nodev", "dev"],
  ["noexec", "exec"],
]);
const undoes = new Map([...tmpfsFlags].map(([set, unset]) => [unset, set]));
const suffixed = (v: string) => /^\d+[kmg]?$/i.test(v);
const id = (v: string) => /^\d+$/.test(v) && Number(v) < 2 ** 32 - 1;
/** tmpfs's own options, with the values the kernel takes: checked here, so that a bad one
 * is named before anything is made (the kernel would refuse it at the mount step, EINVAL). */
const tmpfsData = new Map<string, [valid: (value: string) => boolean, expected: string]>([
  ["size", [(v) => suffixed(v) || /^\d+%$/.test(v), "bytes with an optional k, m or g suffix, or a percentage of memory (64m, 50%)"]],
  ["nr_blocks", [suffixed, "a number with an optional k, m or g suffix (1k)"]],
  ["nr_inodes", [suffixed, "a number with an optional k, m or g suffix (1k)"]],
  ["mode", [(v) => /^[0-7]{1,4}$/.test(v), "an octal mode (1777)"]],
  ["uid", [id, "a numeric user id (1000)"]],
  ["gid", [id, "a numeric group id (1000)"]],
]);

/** --tmpfs PATH[:opt,opt=val,...], with docker's defaults: noexec, nosuid, nodev. */
export function parseTmpfs(spec: string): Tmpfs {
  const colon = spec.indexOf(":");
  const path = mountTarget(containerPath(colon < 0 ? spec : spec.slice(0, colon), `--tmpfs ${spec}: path`), `--tmpfs ${spec}`);
  if (path === "/") throw new MycfsError(`--tmpfs ${spec}: cannot mount over the container's root`);
  const flags = new Set(["nosuid", "nodev", "noexec"]);
  const data: string[] = [];
  for (const opt of colon < 0
    ? []
    : spec
        .slice(colon + 1)
        .split(",")
        .filter(Boolean)) {
    const eq = opt.indexOf("=");
    const known = eq > 0 ? tmpfsData.get(opt.slice(0, eq)) : undefined;
    if (tmpfsFlags.has(opt)) flags.add(opt);
    else if (undoes.has(opt)) flags.delete(undoes.get(opt)!);
    else if (!known)
      throw new MycfsError(
        `--tmpfs ${spec}: unknown option '${opt}' (known: ${[...tmpfsFlags].flat().join(", ")}, ${[...tmpfsData.keys()].map((k) => `${k}=`).join(", ")})`,
      );
    else if (!known[0](opt.slice(eq + 1))) throw new MycfsError(`--tmpfs ${spec}: ${opt}: expected ${known[1]}`);
    else data.push(opt);
  }
  return { path, options: [...[...tmpfsFlags.keys()].filter((f) => flags.has(f)), ...data] };
}

/** The command to run. An empty name is refused before anything is made; with docker's
 * exit code for it, 127 ("executable file not found"), since that is what it is. */
export function command(argv: string[], example: string): string[] {
  if (argv[0] === "") throw new MycfsError(`the command is an empty string (""): name the program to run, e.g. ${example}`, EXIT_NOT_FOUND);
  return argv;
}

function envEntry(entry: string, where: string): [string, string] {
  const eq = entry.indexOf("=");
  if (eq <= 0) throw new MycfsError(`${where}: expected KEY=VALUE, got '${entry}'`);
  if (entry.includes("\0")) throw new MycfsError(`${where}: a NUL byte cannot be in the environment`);
  return [entry.slice(0, eq), entry.slice(eq + 1)];
}

/** An --env-file's name and text. */
export interface EnvFile {
  name: string;
  text: string;
}

/** What the user sets: --env-file's entries, then -e's, each checked. */
export function userEnv(env: string[], envFiles: EnvFile[]): [string, string][] {
  const entries: [string, string][] = [];
  for (const { name, text } of envFiles)
    text.split("\n").forEach((line, i) => {
      const t = line.trim();
      if (t && !t.startsWith("#")) entries.push(envEntry(t, `--env-file ${name}, line ${i + 1}`));
    });
  for (const e of env) entries.push(envEntry(e, `-e ${e}`));
  return entries;
}

/** The container's environment, as docker's: a clean default (not the host's), the image's
 * Env over it, then what the user set. HOME comes from the user's passwd entry where none
 * of these sets it (the planner adds it). */
export function buildEnv(o: { hostname: string; term: string; image: string[]; user: [string, string][] }): string[] {
  const env = new Map<string, string>([
    ["PATH", DEFAULT_PATH],
    ["TERM", o.term],
    ["HOSTNAME", o.hostname],
  ]);
  for (const e of o.image) env.set(...envEntry(e, `the image's Env ${e}`));
  for (const [k, v] of o.user) env.set(k, v);
  return [...env].map(([k, v]) => `${k}=${v}`);
}

export async function readEnvFile(name: string): Promise<EnvFile> {
  try {
    return { name, text: await Bun.file(name).text() };
  } catch (e) {
    throw new MycfsError(`--env-file ${name}: cannot read it (${(e as NodeJS.ErrnoException).code})`);
  }
}

export function validHostname(name: string): string {
  if (!/^[A-Za-z0-9]([A-Za-z0-9.-]{0,62})$/.test(name))
    throw new MycfsError(`--hostname ${name}: use 1-63 letters, digits, '.' or '-', starting with a letter or digit`);
  return name;
}
