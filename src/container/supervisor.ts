// `mycfs run -d`: the container must outlive this command, and a container dies with the
// process that cloned it (PR_SET_PDEATHSIG), so a supervisor clones it: mycfs itself,
// re-executed in a session of its own (setsid) with the same arguments. It runs the
// same code as a foreground `mycfs run` — validation, cgroup, plan, handshake — then
// prints the id, lets go of the terminal and stays to record the exit, copy the output
// into the log and clean up. This command relays what the supervisor says until the
// container is running, and returns.
// Why not a double fork in C: the supervisor's work (state, log rotation, cleanup) is
// policy, and policy lives in TypeScript; one Bun start in the background is the price.
import { MycfsError } from "../errors";
import { dup2, write } from "../native/lib";

const ENV = "MYCFS_SUPERVISOR";

/** Whether this process is a supervisor started by `run -d`. */
export function isSupervisor(): boolean {
  return process.env[ENV] === "1";
}

/** The command that runs this same mycfs again: the compiled executable (by /proc: the
 * front may have run it from memory, where it has no path), or bun and the script. */
function self(): string[] {
  const script = process.argv[1] ?? "";
  return script.startsWith("/$bunfs/") || script === process.execPath ? ["/proc/self/exe"] : [process.execPath, script];
}

/** Starts the supervisor with the same `run` arguments; returns the exit code for this command. */
export async function launchSupervisor(runArgs: string[]): Promise<number> {
  const p = Bun.spawn([...self(), "run", ...runArgs], {
    env: { ...process.env, [ENV]: "1" },
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
    detached: true,
  });
  // Both pipes close once the container runs (the supervisor lets go of them) or setup failed.
  const [out, err] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text()]);
  if (err) write(2, err);
  if (/^[0-9a-f]{64}\n$/.test(out)) {
    write(1, out);
    p.unref();
    return 0;
  }
  const code = await p.exited;
  if (code === 0) throw new MycfsError("the supervisor ended without starting the container");
  return code;
}

/** In the supervisor, once the container runs: tell `run -d` the id, and let go of its
 * pipes and working directory, so that it returns and nothing of the caller is held. */
export function detachFromCaller(id: string) {
  write(1, `${id}\n`);
  const fs = require("node:fs") as typeof import("node:fs");
  const devnull = fs.openSync("/dev/null", "r+");
  for (const fd of [0, 1, 2]) dup2(devnull, fd);
  fs.closeSync(devnull);
  process.chdir("/");
}
