// Turns what the user typed into validated values. Pure functions: every error names
// the input and the fix, and is raised before anything is created on disk.
import { normalize, resolve } from "../paths";
import { MycfsError } from "../errors";
import { fileType, S_IFMT } from "../native/lib";
import { MS } from "../plan/ops";

export const DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

export interface Volume {
  host: string;
  container: string;
  readOnly: boolean;
  isDir: boolean;
}

export interface Tmpfs {
  path: string;
  flags: number;
  data: string;
}

/** An absolute, normalised path inside the container. */
export function containerPath(p: string, what: string): string {
  if (!p.startsWith("/")) throw new MycfsError(`${what} '${p}' must be an absolute path inside the container`);
  const norm = normalize(p);
  return norm.length > 1 ? norm.replace(/\/$/, "") : norm;
}

/** -v HOST:CONTAINER[:ro|rw] */
export function parseVolume(spec: string): Volume {
  const parts = spec.split(":");
  if (parts.length < 2 || parts.length > 3 || !parts[0] || !parts[1])
    throw new MycfsError(`-v ${spec}: expected HOST:CONTAINER[:ro]`);
  const [hostPart, ctr, mode = "rw"] = parts as [string, string, string?];
  if (mode !== "ro" && mode !== "rw") throw new MycfsError(`-v ${spec}: unknown mode '${mode}', use ro or rw`);
  if (!hostPart.startsWith("/") && !hostPart.startsWith("."))
    throw new MycfsError(`-v ${spec}: named volumes are not supported; give a host path (absolute or ./relative)`);
  const host = resolve(hostPart);
  const type = fileType(host);
  if (type === null) throw new MycfsError(`-v ${spec}: host path ${host} does not exist; create it first`);
  const isDir = type === S_IFMT.DIR;
  const container = containerPath(ctr, `-v ${spec}: container path`);
  if (container === "/") throw new MycfsError(`-v ${spec}: cannot mount over the container's root`);
  return { host, container, readOnly: mode === "ro", isDir };
}

const tmpfsFlags: Record<string, [set: number, clear: number]> = {
  ro: [MS.RDONLY, 0], rw: [0, MS.RDONLY],
  nosuid: [MS.NOSUID, 0], suid: [0, MS.NOSUID],
  nodev: [MS.NODEV, 0], dev: [0, MS.NODEV],
  noexec: [MS.NOEXEC, 0], exec: [0, MS.NOEXEC],
};
const tmpfsData = new Set(["size", "mode", "uid", "gid", "nr_inodes", "nr_blocks"]);

/** --tmpfs PATH[:opt,opt=val,...], with docker's defaults: noexec, nosuid, nodev. */
export function parseTmpfs(spec: string): Tmpfs {
  const colon = spec.indexOf(":");
  const path = containerPath(colon < 0 ? spec : spec.slice(0, colon), `--tmpfs ${spec}: path`);
  let flags = MS.NOSUID | MS.NODEV | MS.NOEXEC;
  const data: string[] = [];
  for (const opt of colon < 0 ? [] : spec.slice(colon + 1).split(",").filter(Boolean)) {
    const key = opt.split("=")[0]!;
    if (tmpfsFlags[opt]) flags = (flags | tmpfsFlags[opt][0]) & ~tmpfsFlags[opt][1];
    else if (tmpfsData.has(key) && opt.includes("=")) data.push(opt);
    else throw new MycfsError(`--tmpfs ${spec}: unknown option '${opt}' (known: ${[...Object.keys(tmpfsFlags), ...tmpfsData].join(", ")})`);
  }
  return { path, flags, data: data.join(",") };
}

function envEntry(entry: string, where: string): [string, string] {
  const eq = entry.indexOf("=");
  if (eq <= 0) throw new MycfsError(`${where}: expected KEY=VALUE, got '${entry}'`);
  if (entry.includes("\0")) throw new MycfsError(`${where}: a NUL byte cannot be in the environment`);
  return [entry.slice(0, eq), entry.slice(eq + 1)];
}

/** The container's environment: a clean default (not the host's), then --env-file, then -e. */
export interface EnvFile {
  name: string;
  text: string;
}

export function buildEnv(opts: { hostname: string; term: string; env: string[]; envFiles: EnvFile[] }): string[] {
  const env = new Map<string, string>([
    ["PATH", DEFAULT_PATH],
    ["HOME", "/root"],
    ["TERM", opts.term],
    ["HOSTNAME", opts.hostname],
  ]);
  for (const { name, text } of opts.envFiles)
    text.split("\n").forEach((line, i) => {
      const t = line.trim();
      if (t && !t.startsWith("#")) env.set(...envEntry(t, `--env-file ${name}, line ${i + 1}`));
    });
  for (const e of opts.env) env.set(...envEntry(e, `-e ${e}`));
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
