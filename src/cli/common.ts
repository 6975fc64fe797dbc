// Options every command that touches the store takes, and those of commands that pull.
import type { ArgsDef } from "citty";
import { MycfsError } from "../errors";
import { parsePlatform } from "../images/platform";
import type { PullOptions } from "../images/pull";
import { str, type Values } from "./argv";

export const storeArgs = {
  root: { type: "string", valueHint: "DIR", description: "image and container store (default /var/lib/mycfs, or $MYCFS_ROOT)" },
  state: { type: "string", valueHint: "DIR", description: "container state directory (default /run/mycfs, or $MYCFS_STATE; rootless: $XDG_RUNTIME_DIR/mycfs)" },
  debug: { type: "boolean", description: "explain each step and how long it took" },
} as const satisfies ArgsDef;

/** How to reach a registry: for pull and login. */
export const registryArgs = {
  "insecure-registry": { type: "boolean", description: "allow the registry plain http, or https with a certificate not verified" },
  "registry-ca": { type: "string", valueHint: "FILE", description: "the CA (PEM) that signed the registry's certificate, trusted besides the system's" },
} as const satisfies ArgsDef;

export const registryOptions = (v: Values) => ({ insecure: v["insecure-registry"] === true, caFile: str(v["registry-ca"]) });
export const pullArgs = {
  ...registryArgs,
  platform: { type: "string", valueHint: "OS/ARCH[/VARIANT]", description: "a registry's image for this platform (default this machine's)" },

  mirror: { type: "string", valueHint: "URL", description: "Alpine mirror (default $MYCFS_MIRROR, else https://dl-cdn.alpinelinux.org/alpine)" },
  sha256: { type: "string", valueHint: "HEX", description: "the digest a URL's archive must have (printed after an unpinned pull)" },
  timeout: { type: "string", valueHint: "SECONDS", description: "give a download attempt up after this long without data (default 30)" },
  devices: { type: "boolean", description: "create the device nodes an archive holds (left out by default)" },
} as const satisfies ArgsDef;

export function pullOptions(v: Values): PullOptions {
  const timeout = str(v.timeout) === undefined ? undefined : Number(v.timeout);
  if (timeout !== undefined && !(timeout > 0)) throw new MycfsError(`--timeout ${v.timeout}: expected a number of seconds`);
  const sha256 = str(v.sha256)
    ?.replace(/^sha256:/, "")
    .toLowerCase();
  if (sha256 !== undefined && !/^[0-9a-f]{64}$/.test(sha256)) throw new MycfsError(`--sha256 ${v.sha256}: expected 64 hex digits`);
  const platform = str(v.platform);
  return {
    mirror: str(v.mirror),
    sha256,
    timeout,
    devices: v.devices === true,
    platform: platform ? parsePlatform(platform) : undefined,
    ...registryOptions(v),
  };
}
