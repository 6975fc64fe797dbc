// A registry behind TLS with a certificate from a CA of the test's own (and basic auth, as
// TLS registries usually have): trusted with the CA file, refused without it with an error
// that names both ways out, accepted with --insecure-registry; the same through login.
import { afterAll, beforeAll, expect, test } from "bun:test";
import { mkdirSync, rmSync } from "node:fs";
import { join } from "node:path";
import { mycfs, tempDir } from "../helpers";
import { failure, pull, sampleImage } from "./images";
import { buildLayout, type Layout, pushLayout } from "./layout";
import { startRegistry, type TestRegistry } from "./registry";

const dir = tempDir("tls");
const credentials = { username: "bob", password: "tls-pw" };
let registry: TestRegistry;
let layout: Layout;
beforeAll(async () => {
  registry = await startRegistry({ tls: true, htpasswd: { bob: "tls-pw" } });
  layout = await buildLayout(join(dir, "layout"), sampleImage("tls"));
  await pushLayout(join(dir, "layout"), `${registry.host}/test/app:1`, { caFile: registry.caFile, creds: "bob:tls-pw" });
});
afterAll(async () => {
  await registry?.stop();
  rmSync(dir, { recursive: true, force: true });
});

const untrusted = () =>
  `the certificate of ${registry.host} is not trusted (UNABLE_TO_VERIFY_LEAF_SIGNATURE: unable to verify the first certificate): give the CA that signed it with --registry-ca FILE, or skip verification with --insecure-registry`;

test("with the CA file, the image pulls", async () => {
  const got = await pull(`${registry.host}/test/app:1`, { caFile: registry.caFile, credentials });
  expect(got.digest).toBe(layout.digest);
  expect(got.layers).toHaveLength(2);
});

test("without it, refused: the error names the certificate and both options; no fall back to http", async () => {
  expect(await failure(pull(`${registry.host}/test/app:1`, { credentials }))).toBe(untrusted());
});

test("--insecure-registry: accepted without verification", async () => {
  expect((await pull(`${registry.host}/test/app:1`, { insecure: true, credentials })).digest).toBe(layout.digest);
});

test("a CA file that is not there, or no certificate", async () => {
  expect(await failure(pull(`${registry.host}/test/app:1`, { caFile: join(dir, "nope.pem") }))).toBe(`--registry-ca ${join(dir, "nope.pem")}: no such file`);
  expect(await failure(pull(`${registry.host}/test/app:1`, { caFile: join(dir, "layout/index.json") }))).toBe(
    `--registry-ca ${join(dir, "layout/index.json")}: not a PEM certificate`,
  );
});

test("mycfs login takes --registry-ca and --insecure-registry", async () => {
  const home = join(dir, "home");
  mkdirSync(home);
  const env = { MYCFS_AUTH_FILE: join(home, "auth.json"), HOME: home };
  const login = (flags: string[]) =>
    mycfs(["login", ...flags, "-u", credentials.username, "--password-stdin", registry.host], { stdin: credentials.password, env });
  expect(await login([])).toMatchObject({ code: 125, stderr: `mycfs: ${untrusted()}\n` });
  expect(await login(["--registry-ca", registry.caFile!])).toMatchObject({ code: 0 });
  expect(await login(["--insecure-registry"])).toMatchObject({ code: 0 });
});
