// An image's config blob (image-spec config.md; docker's schema 2 config has the same
// names), hostile bytes read into what mycfs keeps: the "config" fields of ImageConfig
// (src/images/config.ts), the platform, and rootfs.diff_ids, the digests of the layers
// uncompressed, lowest first. A field of the wrong type is an error, as in docker.
//
//   parseImageConfig(bytes, name): { config: ImageConfig; platform: Platform; diffIds: string[] }
import { MycfsError } from "../errors";
import type { ImageConfig, Platform } from "./config";
import { DIGEST } from "./source";

export interface ParsedImageConfig {
  config: ImageConfig;
  platform: Platform;
  diffIds: string[];
}

type Check = (v: unknown) => boolean;
const strings: Check = (v) => Array.isArray(v) && v.every((s) => typeof s === "string");
const string: Check = (v) => typeof v === "string";
const object =
  (values: Check): Check =>
  (v) =>
    typeof v === "object" && v !== null && !Array.isArray(v) && Object.values(v).every(values);

const FIELDS: { [K in keyof ImageConfig]-?: [Check, string] } = {
  Entrypoint: [strings, "a list of strings"],
  Cmd: [strings, "a list of strings"],
  Env: [strings, "a list of strings"],
  WorkingDir: [string, "a string"],
  User: [string, "a string"],
  StopSignal: [string, "a string"],
  Labels: [object(string), "an object of strings"],
  ExposedPorts: [object((v) => typeof v === "object" && v !== null), "an object of objects"],
};

export function parseImageConfig(bytes: Uint8Array, name: string): ParsedImageConfig {
  const bad = (why: string) => new MycfsError(`the image config of ${name} is not valid: ${why}`);
  let doc: Record<string, unknown>;
  try {
    doc = JSON.parse(new TextDecoder().decode(bytes));
  } catch {
    throw bad("it is not JSON");
  }
  if (!object(() => true)(doc)) throw bad("it is not an object");
  const { os, architecture, variant, rootfs } = doc;
  if (typeof os !== "string" || typeof architecture !== "string") throw bad("it has no os and architecture");
  const c = doc.config ?? {};
  if (!object(() => true)(c)) throw bad("config is not an object");
  const config: ImageConfig = {};
  for (const [key, [check, what]] of Object.entries(FIELDS) as [keyof ImageConfig, [Check, string]][]) {
    const v = (c as Record<string, unknown>)[key];
    if (v === undefined || v === null || v === "") continue; // docker writes null or "" for what is not set
    if (!check(v)) throw bad(`config.${key} is not ${what}`);
    (config as Record<string, unknown>)[key] = v;
  }
  const diffIds = (rootfs as { diff_ids?: unknown } | undefined)?.diff_ids;
  if (!strings(diffIds) || !(diffIds as string[]).every((d) => DIGEST.test(d))) throw bad("rootfs.diff_ids is not a list of sha256 digests");
  return { config, platform: { os, architecture, ...(typeof variant === "string" && variant && { variant }) }, diffIds: diffIds as string[] };
}
