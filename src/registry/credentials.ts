// Registry credentials, looked up in mycfs's own file, then in docker's config.json.
//
// mycfs's file (what `mycfs login` writes): $MYCFS_AUTH_FILE if set; for root,
// /etc/mycfs/auth.json, as root's pulls fill the machine's store in /var/lib/mycfs; for
// anyone else, $XDG_CONFIG_HOME/mycfs/auth.json (~/.config/mycfs/auth.json). Mode 0600 in
// a directory 0700, in docker's format: { "auths": { "quay.io": { "auth": base64("user:password") } } }.
// Docker's: $DOCKER_CONFIG/config.json, else ~/.docker/config.json, read only; its keys
// may carry a scheme and a path (Docker Hub's is "https://index.docker.io/v1/").
// Credential helpers (credsStore, credHelpers) and identity tokens are not used.
//
//   findCredentials(registry): Credentials | undefined
//   saveCredentials(registry, username, password): string       the file written
//   removeCredentials(registry): string | undefined             the file they left
//   authFile(): string,  dockerConfigFile(): string | undefined
import { mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { MycfsError } from "../errors";
import { log } from "../log";
import { readFile, replaceFile } from "../native/lib";
import { parseRegistry } from "./reference";

export interface Credentials {
  username: string;
  password: string;
  /** The file they came from (what errors name: never the secret). */
  file?: string;
}

interface AuthEntry {
  auth?: string;
  username?: string;
  password?: string;
}
interface AuthDocument {
  auths?: Record<string, AuthEntry>;
  [other: string]: unknown;
}

const home = () => process.env.HOME || undefined;

export function authFile(): string {
  if (process.env.MYCFS_AUTH_FILE) return process.env.MYCFS_AUTH_FILE;
  if (process.getuid?.() === 0) return "/etc/mycfs/auth.json";
  const config = process.env.XDG_CONFIG_HOME || (home() && join(home()!, ".config"));
  if (!config) throw new MycfsError("neither $XDG_CONFIG_HOME nor $HOME is set: set MYCFS_AUTH_FILE to the file for registry credentials");
  return join(config, "mycfs/auth.json");
}

export function dockerConfigFile(): string | undefined {
  const dir = process.env.DOCKER_CONFIG || (home() && join(home()!, ".docker"));
  return dir && join(dir, "config.json");
}

/** A file's document; null if there is none. Ours must parse; docker's is skipped with a
 * warning if it does not (it is another program's). */
function read(file: string, ours: boolean): AuthDocument | null {
  const text = readFile(file);
  if (text === null) return null;
  try {
    const doc = JSON.parse(text);
    if (typeof doc === "object" && doc && !Array.isArray(doc)) return doc;
  } catch {}
  const why = `${file} is not a JSON object`;
  if (ours) throw new MycfsError(`${why}: fix it, or remove it and log in again`);
  log.warn(`${why}; its credentials are not used`);
  return null;
}

/** The entry for `registry`, whatever form its key takes. */
function entryOf(doc: AuthDocument, registry: string): [key: string, entry: AuthEntry] | undefined {
  for (const [key, entry] of Object.entries(doc.auths ?? {})) {
    try {
      if (parseRegistry(key) === registry && entry && typeof entry === "object") return [key, entry];
    } catch {} // a key that is no registry is no match
  }
}

function decode(entry: AuthEntry, file: string): Credentials | undefined {
  if (typeof entry.auth === "string" && entry.auth) {
    const text = Buffer.from(entry.auth, "base64").toString();
    const colon = text.indexOf(":");
    if (colon > 0) return { username: text.slice(0, colon), password: text.slice(colon + 1), file };
    log.warn(`${file}: an "auth" that is not base64 of user:password is not used`);
  } else if (typeof entry.username === "string" && typeof entry.password === "string") return { username: entry.username, password: entry.password, file };
}

export function findCredentials(registry: string): Credentials | undefined {
  for (const [file, ours] of [
    [authFile(), true],
    [dockerConfigFile(), false],
  ] as const) {
    if (!file) continue;
    const doc = read(file, ours);
    const found = doc && entryOf(doc, registry);
    const creds = found && decode(found[1], file);
    if (creds) {
      log.debug(`credentials for ${registry} from ${file}`);
      return creds;
    }
  }
}

function write(file: string, doc: AuthDocument) {
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  replaceFile(file, `${JSON.stringify(doc, null, 2)}\n`, 0o600);
}

export function saveCredentials(registry: string, username: string, password: string): string {
  const file = authFile();
  const doc = read(file, true) ?? {};
  const auths = (doc.auths ??= {});
  const old = entryOf(doc, registry);
  if (old) delete auths[old[0]];
  auths[registry] = { auth: Buffer.from(`${username}:${password}`).toString("base64") };
  write(file, doc);
  return file;
}

export function removeCredentials(registry: string): string | undefined {
  const file = authFile();
  const doc = read(file, true);
  const old = doc && entryOf(doc, registry);
  if (!old) return undefined;
  delete doc.auths![old[0]];
  write(file, doc);
  return file;
}
