import { defineCommand } from "citty";
import { MycfsError } from "../errors";
import { log, setDebug } from "../log";
import { isatty, rawTerminal, restoreTerminal, write } from "../native/lib";
import { saveCredentials } from "../registry/credentials";
import { Endpoint } from "../registry/endpoint";
import { DOCKER_HUB, parseRegistry } from "../registry/reference";
import { parseOptions, str } from "./argv";
import { registryArgs, registryOptions, storeArgs } from "./common";

const args = {
  username: { type: "string", alias: "u", valueHint: "USER", description: "the user name (asked for at a terminal if not given)" },
  "password-stdin": { type: "boolean", description: "read the password from standard input (else it is asked for at a terminal)" },
  ...registryArgs,
  debug: storeArgs.debug,
} as const;

/** A line typed at the terminal on fd 0; a secret one without echo (raw mode, restored). */
async function ask(input: { read(): Promise<{ done: boolean; value?: Uint8Array }> }, prompt: string, secret: boolean): Promise<string> {
  // echo off before the prompt shows: what is typed after it never echoes
  const saved = secret ? rawTerminal(0) : null;
  write(2, prompt);
  const decoder = new TextDecoder();
  let line = "";
  try {
    for (;;) {
      const { value, done } = await input.read();
      if (done) throw new MycfsError("login cancelled: the terminal closed");
      for (const ch of decoder.decode(value, { stream: true })) {
        if (ch === "\r" || ch === "\n") return line;
        if (ch === "\x03") throw new MycfsError("login cancelled", 130);
        line = ch === "\x7f" || ch === "\b" ? line.slice(0, -1) : line + ch;
      }
    }
  } finally {
    if (saved) {
      restoreTerminal(0, saved);
      write(2, "\n");
    }
  }
}

export default defineCommand({
  meta: {
    name: "login",
    description: `Check credentials with a registry (default ${DOCKER_HUB}) and keep them for pulls from it, in $MYCFS_AUTH_FILE, /etc/mycfs/auth.json for root, else ~/.config/mycfs/auth.json.`,
  },
  args: { ...args, registry: { type: "positional", required: false, valueHint: "REGISTRY", description: "host[:port] of the registry" } },
  async run({ rawArgs }) {
    const { values: v, positionals } = parseOptions("login", args, rawArgs);
    setDebug(v.debug === true);
    if (positionals.length > 1) throw new MycfsError("usage: mycfs login [options] [REGISTRY]; see 'mycfs login --help'");
    const registry = parseRegistry(positionals[0] ?? DOCKER_HUB);
    let username = str(v.username);
    let password: string;
    if (v["password-stdin"]) {
      if (username === undefined) throw new MycfsError("--password-stdin needs --username");
      password = (await Bun.stdin.text()).replace(/\r?\n$/, "");
    } else {
      if (!isatty(0)) throw new MycfsError("no terminal to ask for the password at: give it on standard input with --password-stdin");
      const input = Bun.stdin.stream().getReader();
      username ??= await ask(input, "Username: ", false);
      password = await ask(input, "Password: ", true);
      input.releaseLock();
    }
    if (!username || username.includes(":")) throw new MycfsError("the user name must not be empty or hold ':'");
    if (!password) throw new MycfsError("the password is empty");
    await new Endpoint(registry, { ...registryOptions(v), credentials: { username, password } }).checkLogin(new AbortController().signal);
    const file = saveCredentials(registry, username, password);
    log.info(`logged in to ${registry} as ${username}; the credentials are in ${file}`);
  },
});
