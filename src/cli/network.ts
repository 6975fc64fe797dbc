import { defineCommand } from "citty";
import { MycfsError } from "../errors";
import { BRIDGE } from "../network/bridge";
import { networkState, removeNetwork } from "../network/remove";
import { configuredSubnet } from "../network/subnet";
import { configuredSubnet6 } from "../network/subnet6";
import { parseOptions, str } from "./argv";
import { storeArgs } from "./common";
import { StateDir } from "../state/dir";

const args = { ...storeArgs } as const;

/** The one network mycfs makes: its name in `ls`, `rm` and --network. */
const NAME = "bridge";

export default defineCommand({
  meta: {
    name: "network",
    description: `The bridge network (--network bridge): ls shows it, rm removes it (the bridge ${BRIDGE}, the nftables table 'inet mycfs' and the leased addresses) unless a container uses it, prune removes it if unused.`,
  },
  args: { ...args, command: { type: "positional", valueHint: "ls|rm bridge|prune", description: "what to do" } },
  async run({ rawArgs }) {
    const { values: v, positionals } = parseOptions("network", args, rawArgs);
    const stateRoot = new StateDir(str(v.state)).root;
    const [sub, ...rest] = positionals;
    const usage = (what: string) => new MycfsError(`mycfs network ${what}; see 'mycfs network --help'`);
    switch (sub) {
      case "ls": {
        if (rest.length) throw usage("ls takes no arguments");
        const s = networkState(stateRoot);
        const subnet = configuredSubnet();
        const subnets = [subnet, configuredSubnet6(subnet)].filter((n) => n !== null);
        const both = (f: (n: (typeof subnets)[number]) => string) => subnets.map(f).join(",");
        console.log(["NAME", "BRIDGE", "SUBNET", "GATEWAY", "CONTAINERS"].join("\t"));
        if (s.bridge || s.table || s.containers || s.stale)
          console.log(
            [NAME, s.bridge ? BRIDGE : "-", both((n) => n.cidr), both((n) => n.gateway), `${s.containers}${s.stale ? ` (${s.stale} stale)` : ""}`].join("\t"),
          );
        return;
      }
      case "rm":
        if (rest.length !== 1 || rest[0] !== NAME) throw usage(`rm takes the network's name: ${NAME}`);
        if (!removeNetwork(stateRoot, false)) throw new MycfsError(`there is no ${NAME} network to remove here (see mycfs network ls)`);
        console.log(NAME);
        return;
      case "prune":
        if (rest.length) throw usage("prune takes no arguments");
        if (removeNetwork(stateRoot, true)) console.log(NAME);
        return;
      default:
        throw usage("needs ls, rm bridge or prune");
    }
  },
});
