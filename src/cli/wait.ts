import { defineCommand } from "citty";
import { waitSettled } from "../container/control";
import { MycfsError } from "../errors";
import { shortId } from "../state/record";
import { parseOptions } from "./argv";
import { containerArgs, containersPositional, needArgs, oneContainer, stateDir } from "./containers";

const args = { ...containerArgs } as const;

export default defineCommand({
  meta: { name: "wait", description: "Wait until containers end, and print their exit codes." },
  args: { ...args, ...containersPositional },
  async run({ rawArgs }) {
    const { values: v, positionals } = parseOptions("wait", args, rawArgs);
    for (const ref of needArgs("wait", positionals, "a container id or name")) {
      const s = oneContainer(v, ref);
      waitSettled(s);
      // the supervisor has written its last record, unless it was told to remove it
      const end = stateDir(v).read(s.id) ?? oneContainer(v, ref);
      if (end.exitCode === undefined) throw new MycfsError(`container ${ref} (${shortId(s.id)}) was removed as it ended, and its exit code with it`);
      console.log(end.exitCode);
    }
  },
});
