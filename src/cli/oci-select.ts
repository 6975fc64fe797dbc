// Which front end a command line is for: runc's (cli/oci.ts) or mycfs's own. Kept apart
// so that main.ts loads nothing else to decide. runc's kill, exec and ps share their
// names with mycfs's own commands, and engines call them without a global option (podman
// passes no --root): they are runc's when the id they name is an OCI container, and
// `run` is runc's with --bundle. mycfs's own commands keep their meaning otherwise.
import { fileType, readFile } from "../native/lib";

/** Commands that only runc has: they select the OCI front end by themselves. */
export const OCI_COMMANDS = new Set([
  "create",
  "start",
  "state",
  "delete",
  "list",
  "spec",
  "features",
  "pause",
  "resume",
  "update",
  "events",
  "checkpoint",
  "restore",
]);
/** runc's global options that take a value, and those that take none (or =true/=false). */
export const GLOBAL_VALUE = new Set(["root", "log", "log-format", "criu", "rootless"]);
export const GLOBAL_BOOL = new Set(["debug", "systemd-cgroup"]);

const name = (arg: string) => arg.replace(/^--?/, "").split("=")[0]!;

export const isOciGlobal = (arg: string) => arg.startsWith("-") && (GLOBAL_VALUE.has(name(arg)) || GLOBAL_BOOL.has(name(arg)));

/** The options of runc's kill, exec and ps that take a value, to find the id after them. */
const VALUE_OPTIONS = new Set([
  "process",
  "p",
  "console-socket",
  "cwd",
  "env",
  "e",
  "user",
  "u",
  "pid-file",
  "process-label",
  "apparmor",
  "cap",
  "c",
  "preserve-fds",
  "cgroup",
  "format",
  "f",
  "additional-gids",
  "g",
]);
const SHARED = new Set(["kill", "exec", "ps"]);

/** Root of the host: uid 0 in the initial user namespace (not the root of a rootless
 * engine's namespace, such as podman's as a user), as runc tells them apart. */
export function hostRoot(): boolean {
  return process.getuid?.() === 0 && /^\s*0\s+0\s+4294967295\s*$/.test(readFile("/proc/self/uid_map") ?? "");
}

/** The OCI front end's state directory without --root (state.ts's default). */
export function ociRoot(): string {
  if (process.env.MYCFS_OCI_ROOT) return process.env.MYCFS_OCI_ROOT;
  if (hostRoot()) return "/run/mycfs-oci";
  return `${process.env.XDG_RUNTIME_DIR || `/tmp/mycfs-oci-${process.getuid?.()}`}/mycfs-oci`;
}

export function isOciCommandLine(argv: string[]): boolean {
  const [cmd, ...args] = argv;
  if (cmd === undefined) return false;
  if (isOciGlobal(cmd) || OCI_COMMANDS.has(cmd)) return true;
  if (cmd === "run") return args.some((a) => a === "-b" || name(a) === "bundle");
  if (!SHARED.has(cmd)) return false;
  for (let i = 0; i < args.length; i++) {
    const a = args[i]!;
    if (a === "--") return false;
    if (a.startsWith("-")) {
      if (VALUE_OPTIONS.has(name(a)) && !a.includes("=")) i++;
      continue;
    }
    return /^[\w+\-.]+$/.test(a) && fileType(`${ociRoot()}/${a}/state.json`) !== null;
  }
  return false;
}
