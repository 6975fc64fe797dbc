// Which front end a command line is for: runc's (cli/oci.ts) or mycfs's own. Kept apart
// so that main.ts loads nothing else to decide.

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

export const isOciGlobal = (arg: string) => {
  const name = arg.replace(/^--?/, "").split("=")[0]!;
  return arg.startsWith("-") && (GLOBAL_VALUE.has(name) || GLOBAL_BOOL.has(name));
};
