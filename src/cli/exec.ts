import { defineCommand } from "citty";
import { execIn } from "../container/exec";
import { MycfsError } from "../errors";
import { command, containerPath } from "../container/options";
import { setDebug } from "../log";
import { list, parseOptions, str } from "./argv";
import { containerArgs, containerPositional, needArgs, oneContainer } from "./containers";
import { terminalArgs, terminalMode } from "./lifecycle-args";

const args = {
  ...containerArgs,
  ...terminalArgs,
  env: { type: "string", alias: "e", valueHint: "KEY=VAL", description: "set an environment variable over the container's (repeatable)" },
  workdir: { type: "string", alias: "w", valueHint: "DIR", description: "working directory (default: the container's)" },
  user: {
    type: "string",
    alias: "u",
    valueHint: "NAME|UID[:GROUP|GID]",
    description: "the user to run as, named in the container's /etc/passwd (default: the container's)",
  },
  "group-add": { type: "string", valueHint: "NAME|GID", description: "a supplementary group beside the user's own (repeatable)" },
} as const;

export default defineCommand({
  meta: { name: "exec", description: "Run a command in a running container: its namespaces, cgroup, privileges and limits." },
  args: {
    ...args,
    ...containerPositional,
    cmd: { type: "positional", valueHint: "CMD ARGS...", description: "command to run" },
  },
  async run({ rawArgs }) {
    const { values: v, positionals } = parseOptions("exec", args, rawArgs, new Set(["env", "group-add"]));
    setDebug(v.debug === true);
    const [ref, ...cmd] = needArgs("exec", positionals, "a container and a command", 2);
    const argv = command(cmd, `mycfs exec ${ref} sh`);
    const env = list(v.env).map((e) => {
      if (e.indexOf("=") <= 0) throw new MycfsError(`-e ${e}: expected KEY=VALUE`);
      return e;
    });
    const workdir = str(v.workdir);
    const s = oneContainer(v, ref!);
    process.exitCode = await execIn(s, {
      argv,
      env,
      workdir: workdir && containerPath(workdir, "-w"),
      user: str(v.user),
      groupAdd: list(v["group-add"]),
      debug: v.debug === true,
      ...terminalMode(v, false),
    });
  },
});
