// A real registry for the tests: Debian's docker-registry (distribution 2.8, the reference
// implementation) on 127.0.0.1 at a free port, with a configuration and storage in a
// temporary directory of its own, optionally behind TLS (a CA of the test's), htpasswd
// (bcrypt by Bun.password) or token auth (token-server.ts). stop() ends it by its pid and
// removes everything.
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "../helpers";
import { serverCertificate } from "./pki";
import { startTokenServer, TOKEN_SERVICE, type TokenOptions } from "./token-server";

export interface RegistryOptions {
  tls?: boolean;
  /** user → password: basic auth. */
  htpasswd?: Record<string, string>;
  /** Token auth from a token server of the tests' own. */
  token?: TokenOptions;
  /** Accept schema 1 manifests (distribution 2.8 refuses them by default). */
  schema1?: boolean;
}

export interface TestRegistry {
  /** 127.0.0.1:PORT, as images name it. */
  host: string;
  url: string;
  /** The CA of a TLS registry's certificate (PEM); its directory is skopeo's --dest-cert-dir. */
  caFile?: string;
  tokens?: ReturnType<typeof startTokenServer>;
  stop(): Promise<void>;
}

const BIN = "/usr/bin/docker-registry";
const READY_MS = 15_000;

/** A port free now (the registry cannot be asked for port 0: it would not say which it got). */
function freePort(): number {
  const s = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data() {} } });
  const { port } = s;
  s.stop(true);
  return port;
}

async function config(dir: string, port: number, opts: RegistryOptions) {
  const lines = [
    "version: 0.1",
    "log: { level: warn, accesslog: { disabled: true } }",
    `storage: { filesystem: { rootdirectory: ${join(dir, "data")} }, delete: { enabled: true } }`,
    `http:\n  addr: 127.0.0.1:${port}\n  secret: mycfs-test`,
  ];
  const extra: Partial<TestRegistry> = {};
  if (opts.tls) {
    const pki = serverCertificate(dir);
    lines.push(`  tls: { certificate: ${pki.cert}, key: ${pki.key} }`);
    extra.caFile = pki.caFile;
  }
  if (opts.htpasswd) {
    const users = await Promise.all(
      Object.entries(opts.htpasswd).map(async ([u, p]) => `${u}:${await Bun.password.hash(p, { algorithm: "bcrypt", cost: 4 })}`),
    );
    writeFileSync(join(dir, "htpasswd"), `${users.join("\n")}\n`);
    lines.push(`auth: { htpasswd: { realm: mycfs-test, path: ${join(dir, "htpasswd")} } }`);
  }
  if (opts.token) {
    const tokens = startTokenServer(dir, opts.token);
    lines.push(`auth: { token: { realm: "${tokens.realm}", service: ${TOKEN_SERVICE}, issuer: mycfs-test-issuer, rootcertbundle: ${tokens.bundle} } }`);
    extra.tokens = tokens;
  }
  if (opts.schema1) lines.push("compatibility: { schema1: { enabled: true } }");
  writeFileSync(join(dir, "config.yml"), `${lines.join("\n")}\n`);
  return extra;
}

export async function startRegistry(opts: RegistryOptions = {}): Promise<TestRegistry> {
  const dir = tempDir("registry");
  let extra: Partial<TestRegistry> = {};
  let proc: Bun.Subprocess | undefined;
  const stop = async () => {
    proc?.kill();
    await proc?.exited;
    extra.tokens?.stop();
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    const port = freePort();
    extra = await config(dir, port, opts);
    const url = `${opts.tls ? "https" : "http"}://127.0.0.1:${port}`;
    // an environment of its own: REGISTRY_* variables would override the configuration
    proc = Bun.spawn([BIN, "serve", join(dir, "config.yml")], { env: { PATH: "/usr/bin:/bin" }, stdout: "ignore", stderr: Bun.file(join(dir, "log")) });
    const ca = extra.caFile && (await Bun.file(extra.caFile).text());
    for (const t0 = Date.now(); ; await Bun.sleep(50)) {
      if (proc.exitCode !== null) throw new Error(`docker-registry exited: ${await Bun.file(join(dir, "log")).text()}`);
      if (Date.now() - t0 > READY_MS) throw new Error(`docker-registry did not answer on ${url} within ${READY_MS} ms`);
      const answered = await fetch(`${url}/v2/`, { tls: ca ? { ca } : undefined }).then(
        (r) => r.body?.cancel().then(() => true),
        () => false,
      );
      if (answered) break;
    }
    return { host: `127.0.0.1:${port}`, url, ...extra, stop };
  } catch (e) {
    await stop();
    throw e;
  }
}
