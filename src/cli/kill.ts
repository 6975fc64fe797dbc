import { defineCommand } from "citty";
import { signalContainer, signalNumber } from "../container/control";
import { parseOptions, str } from "./argv";
import { containerArgs, containersPositional, needArgs, oneContainer } from "./containers";

const args = {
  ...containerArgs,
  signal: { type: "string", alias: "s", valueHint: "SIGNAL", description: "signal name or number (default KILL)" },
} as const;

export default defineCommand({
  meta: { name: "kill", description: "Send a signal to the first process of running containers." },
  args: { ...args, ...containersPositional },
  async run({ rawArgs }) {
    const { values: v, positionals } = parseOptions("kill", args, rawArgs);
    const sig = signalNumber(str(v.signal) ?? "KILL");
    for (const ref of needArgs("kill", positionals, "a container id or name")) {
      signalContainer(oneContainer(v, ref), sig);
      console.log(ref);
    }
  },
});
