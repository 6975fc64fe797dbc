import { defineCommand } from "citty";
import { parseOptions } from "./argv";
import { containerArgs, containersPositional, needArgs, oneContainer } from "./containers";
import { statusText } from "./ps";

const args = { ...containerArgs } as const;

export default defineCommand({
  meta: { name: "inspect", description: "Print what mycfs records about containers, as JSON." },
  args: { ...args, ...containersPositional },
  async run({ rawArgs }) {
    const { values: v, positionals } = parseOptions("inspect", args, rawArgs);
    const refs = needArgs("inspect", positionals, "a container id or name");
    console.log(
      JSON.stringify(
        refs.map((r) => {
          const s = oneContainer(v, r);
          return { ...s, statusText: statusText(s) };
        }),
        null,
        2,
      ),
    );
  },
});
