// What the attack tests share: a simulated pure cgroup v2 host (cgroup2 mounted on
// /sys/fs/cgroup in a private mount namespace, as bench/ does; the host's mounts are never
// touched), a copy of mycfs the attacks may aim at, and a token only the host has.
import { copyFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { MYCFS, onPureV2, type Result } from "../helpers";

/** Runs `script` (sh) as root, $MYCFS being mycfs; `wrap`: onPureV2, for a host with
 * cgroup2 alone on /sys/fs/cgroup, the layout of most users' hosts (this one is hybrid). */
export async function shell(script: string, wrap: (argv: string[]) => string[] = (a) => a): Promise<Result> {
  const p = Bun.spawn(wrap(["sh", "-c", script]), { stdout: "pipe", stderr: "pipe", stdin: "ignore", env: { ...process.env, MYCFS } });
  const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  return { code, stdout, stderr };
}

export const onV2 = (script: string) => shell(script, onPureV2);

/** A file on the host, outside any container, holding a random token: an attack that
 * prints the token has read the host. */
export function hostToken(dir: string): { path: string; token: string } {
  const token = `host-only-${crypto.randomUUID()}`;
  const path = join(dir, "host-token");
  writeFileSync(path, token);
  return { path, token };
}

/** A copy of dist/mycfs in dir, for attacks that try to overwrite the binary. */
export function mycfsCopy(dir: string): string {
  const path = join(dir, "mycfs-under-test");
  copyFileSync(MYCFS, path);
  return path;
}

/** `..` enough times to climb from any directory to the root. */
export const climb = "../".repeat(24);
