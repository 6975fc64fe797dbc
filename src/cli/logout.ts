import { defineCommand } from "citty";
import { MycfsError } from "../errors";
import { log, setDebug } from "../log";
import { findCredentials, removeCredentials } from "../registry/credentials";
import { DOCKER_HUB, parseRegistry } from "../registry/reference";
import { parseOptions } from "./argv";
import { storeArgs } from "./common";

const args = { debug: storeArgs.debug } as const;

export default defineCommand({
  meta: { name: "logout", description: `Forget the credentials 'mycfs login' kept for a registry (default ${DOCKER_HUB}).` },
  args: { ...args, registry: { type: "positional", required: false, valueHint: "REGISTRY", description: "host[:port] of the registry" } },
  async run({ rawArgs }) {
    const { values: v, positionals } = parseOptions("logout", args, rawArgs);
    setDebug(v.debug === true);
    if (positionals.length > 1) throw new MycfsError("usage: mycfs logout [REGISTRY]; see 'mycfs logout --help'");
    const registry = parseRegistry(positionals[0] ?? DOCKER_HUB);
    const file = removeCredentials(registry);
    if (file) log.info(`removed the credentials for ${registry} from ${file}`);
    else log.info(`not logged in to ${registry}`);
    // docker's own file is read, never written: say so if it still logs in
    const still = findCredentials(registry);
    if (still) log.warn(`${still.file} still has credentials for ${registry}, which mycfs uses; remove them there (docker logout ${registry})`);
  },
});
