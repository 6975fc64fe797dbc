// Credentials with real registries: htpasswd (basic auth) and token auth (a token server
// of the tests' own). Denied without them; `mycfs login` through the CLI checks them, keeps
// them in $MYCFS_AUTH_FILE (0600) and never prints them; pulls then work, and stop after
// `mycfs logout`; docker's ~/.docker/config.json is read too; anonymous tokens for what is
// public, tokens from credentials for what is private.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { MYCFS, mycfs, tempDir, terminal } from "../helpers";
import { failure, pull, sampleImage, setEnv } from "./images";
import { buildLayout, type Layout, pushLayout } from "./layout";
import { startRegistry, type TestRegistry } from "./registry";

const dir = tempDir("auth");
const USER = "alice";
const PASSWORD = "s3cret-pw";
let layout: Layout;
beforeAll(async () => {
  layout = await buildLayout(join(dir, "layout"), sampleImage("app"));
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** Runs fn with process.env changed (for the pulls made in this process), then restores it. */
async function withEnv<T>(vars: Record<string, string>, fn: () => Promise<T>): Promise<T> {
  const restore = setEnv(vars);
  try {
    return await fn();
  } finally {
    restore();
  }
}

/** A fresh auth file location and an empty HOME: no credentials but those a test writes. */
const isolated = (tag: string) => {
  const home = join(dir, `home-${tag}`);
  mkdirSync(home);
  return { MYCFS_AUTH_FILE: join(home, "mycfs/auth.json"), HOME: home, DOCKER_CONFIG: "" };
};
const login = (host: string, env: Record<string, string>, password = PASSWORD, extra: string[] = []) =>
  mycfs(["login", ...extra, "--username", USER, "--password-stdin", host], { stdin: `${password}\n`, env });

describe("htpasswd (basic auth)", () => {
  let registry: TestRegistry;
  beforeAll(async () => {
    registry = await startRegistry({ htpasswd: { [USER]: PASSWORD } });
    await pushLayout(join(dir, "layout"), `${registry.host}/test/app:1`, { creds: `${USER}:${PASSWORD}` });
  });
  afterAll(() => registry?.stop());

  test("denied without login, pulled after `mycfs login`, denied again after `mycfs logout`", async () => {
    const env = isolated("basic");
    const image = `${registry.host}/test/app:1`;
    const denied = `pull access denied for ${registry.host}/test/app, or it does not exist: UNAUTHORIZED: authentication required; if it needs a login: mycfs login ${registry.host}`;
    expect(await withEnv(env, () => failure(pull(image)))).toBe(denied);

    const wrong = await login(registry.host, env, "wrong");
    expect(wrong).toMatchObject({ code: 125, stdout: "" });
    expect(wrong.stderr).toBe(`mycfs: login to ${registry.host} as ${USER} failed: wrong user name or password: UNAUTHORIZED: authentication required\n`);
    expect(existsSync(env.MYCFS_AUTH_FILE)).toBe(false);

    const ok = await login(registry.host, env, PASSWORD, ["--debug"]);
    expect(ok).toMatchObject({ code: 0, stdout: "" });
    expect(ok.stderr).toContain(`logged in to ${registry.host} as ${USER}; the credentials are in ${env.MYCFS_AUTH_FILE}`);
    const basic = btoa(`${USER}:${PASSWORD}`);
    for (const text of [ok.stdout, ok.stderr, wrong.stderr]) {
      expect(text).not.toContain(PASSWORD);
      expect(text).not.toContain(basic);
    }
    expect(statSync(env.MYCFS_AUTH_FILE).mode & 0o777).toBe(0o600);
    expect(statSync(join(env.MYCFS_AUTH_FILE, "..")).mode & 0o777).toBe(0o700);
    expect(JSON.parse(readFileSync(env.MYCFS_AUTH_FILE, "utf8"))).toEqual({ auths: { [registry.host]: { auth: basic } } });

    const got = await withEnv(env, () => pull(image));
    expect(got.digest).toBe(layout.digest);

    const out = await mycfs(["logout", registry.host], { env });
    expect(out).toMatchObject({ code: 0, stderr: `mycfs: removed the credentials for ${registry.host} from ${env.MYCFS_AUTH_FILE}\n` });
    expect(JSON.parse(readFileSync(env.MYCFS_AUTH_FILE, "utf8"))).toEqual({ auths: {} });
    expect(await withEnv(env, () => failure(pull(image)))).toBe(denied);
    expect((await mycfs(["logout", registry.host], { env })).stderr).toBe(`mycfs: not logged in to ${registry.host}\n`);
  });

  test("credentials from docker's config.json, under any of its key forms", async () => {
    for (const key of [registry.host, `http://${registry.host}`, `https://${registry.host}/v1/`]) {
      const env = isolated(`docker-${key.replace(/\W/g, "")}`);
      mkdirSync(join(env.HOME, ".docker"));
      writeFileSync(join(env.HOME, ".docker/config.json"), JSON.stringify({ auths: { "quay.io": {}, [key]: { auth: btoa(`${USER}:${PASSWORD}`) } } }));
      expect((await withEnv(env, () => pull(`${registry.host}/test/app:1`))).digest).toBe(layout.digest);
    }
  });

  test("wrong credentials in a file: the error says whose and where from", async () => {
    const env = isolated("wrong");
    mkdirSync(join(env.MYCFS_AUTH_FILE, ".."));
    writeFileSync(env.MYCFS_AUTH_FILE, JSON.stringify({ auths: { [registry.host]: { auth: btoa(`${USER}:nope`) } } }));
    expect(await withEnv(env, () => failure(pull(`${registry.host}/test/app:1`)))).toBe(
      `pull access denied for ${registry.host}/test/app, or it does not exist: UNAUTHORIZED: authentication required (as ${USER}, from ${env.MYCFS_AUTH_FILE})`,
    );
  });

  test("login at a terminal: the password is asked for and not echoed", async () => {
    const env = isolated("tty");
    const t = terminal(`env MYCFS_AUTH_FILE=${env.MYCFS_AUTH_FILE} ${MYCFS} login ${registry.host}`);
    await t.waitFor("Username: ");
    t.type(`${USER}\r`);
    await t.waitFor("Password: ");
    t.type(`${PASSWORD}\r`);
    await t.waitFor(`logged in to ${registry.host} as ${USER}`);
    expect(await t.close()).toBe(0);
    expect(t.output()).not.toContain(PASSWORD);
    expect(existsSync(env.MYCFS_AUTH_FILE)).toBe(true);
  });

  test("without a terminal or --password-stdin, login says how", async () => {
    const r = await mycfs(["login", "--username", USER, registry.host], { env: isolated("notty") });
    expect(r).toMatchObject({ code: 125, stderr: "mycfs: no terminal to ask for the password at: give it on standard input with --password-stdin\n" });
  });
});

describe("token auth", () => {
  let registry: TestRegistry;
  beforeAll(async () => {
    registry = await startRegistry({ token: { users: { [USER]: PASSWORD } } });
    for (const repo of ["test/app", "private/app"]) await pushLayout(join(dir, "layout"), `${registry.host}/${repo}:1`, { creds: `${USER}:${PASSWORD}` });
  });
  afterAll(() => registry?.stop());

  test("anonymous: a pull token for a public repository, none for a private one", async () => {
    const env = isolated("anon");
    const got = await withEnv(env, () => pull(`${registry.host}/test/app:1`));
    expect(got.digest).toBe(layout.digest);
    expect(registry.tokens!.requests.at(-1)).toEqual({ user: undefined, scopes: ["repository:test/app:pull"] });
    expect(await withEnv(env, () => failure(pull(`${registry.host}/private/app:1`)))).toBe(
      `pull access denied for ${registry.host}/private/app, or it does not exist: UNAUTHORIZED: authentication required; if it needs a login: mycfs login ${registry.host}`,
    );
  });

  test("login checks the credentials with the token server; the private repository then pulls", async () => {
    const env = isolated("token");
    const wrong = await login(registry.host, env, "wrong");
    expect(wrong).toMatchObject({ code: 125 });
    expect(wrong.stderr).toBe(`mycfs: ${registry.host} refused the credentials of ${USER}: wrong user name or password? run 'mycfs login ${registry.host}'\n`);
    expect(await login(registry.host, env)).toMatchObject({ code: 0 });
    expect(registry.tokens!.requests.at(-1)).toEqual({ user: USER, scopes: [] });
    const got = await withEnv(env, () => pull(`${registry.host}/private/app:1`));
    expect(got.layers).toHaveLength(2);
    expect(registry.tokens!.requests.at(-1)).toEqual({ user: USER, scopes: ["repository:private/app:pull"] });
  });
});
