import { defineCommand } from "citty";
import { stopContainer } from "../container/control";
import { MycfsError } from "../errors";
import { parseOptions, str } from "./argv";
import { containerArgs, containersPositional, needArgs, oneContainer } from "./containers";

const args = {
  ...containerArgs,
  time: { type: "string", alias: "t", valueHint: "SECONDS", description: "how long to wait after the stop signal before SIGKILL (default 10)" },
} as const;

export default defineCommand({
  meta: {
    name: "stop",
    description: "Stop containers: their stop signal (SIGTERM unless the image or --stop-signal says otherwise), then SIGKILL once the time is up.",
  },
  args: { ...args, ...containersPositional },
  async run({ rawArgs }) {
    const { values: v, positionals } = parseOptions("stop", args, rawArgs);
    const t = str(v.time) ?? "10";
    if (!/^\d+$/.test(t)) throw new MycfsError(`-t ${t}: expected a whole number of seconds`);
    for (const ref of needArgs("stop", positionals, "a container id or name")) {
      stopContainer(oneContainer(v, ref), Number(t));
      console.log(ref);
    }
  },
});
