import { defineCommand } from "citty";
import { stopContainer } from "../container/control";
import { MycfsError } from "../errors";
import { removeTree } from "../native/lib";
import { isSupervised } from "../state/record";
import { parseOptions } from "./argv";
import { containerArgs, containersPositional, needArgs, oneContainer, stateDir } from "./containers";

const args = {
  ...containerArgs,
  force: { type: "boolean", alias: "f", description: "kill a running container first" },
} as const;

export default defineCommand({
  meta: { name: "rm", description: "Remove containers: their record, log and writable layer." },
  args: { ...args, ...containersPositional },
  async run({ rawArgs }) {
    const { values: v, positionals } = parseOptions("rm", args, rawArgs);
    const dir = stateDir(v);
    for (const ref of needArgs("rm", positionals, "a container id or name")) {
      let s = oneContainer(v, ref);
      if (isSupervised(s)) {
        if (!v.force) throw new MycfsError(`container ${ref} is running: stop it first (mycfs stop ${ref}), or remove it with rm -f`);
        stopContainer(s, 0);
        // as its supervisor left it: a --rm container has removed itself
        const after = dir.read(s.id);
        if (!after) {
          console.log(ref);
          continue;
        }
        s = after;
      }
      const unlock = dir.lock();
      try {
        if (s.storeDir) removeTree(s.storeDir);
        dir.remove(s);
      } finally {
        unlock();
      }
      console.log(ref);
    }
  },
});
