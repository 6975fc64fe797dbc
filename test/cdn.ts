// A local stand-in for Alpine's CDN (Bun.serve on 127.0.0.1) and the archives it serves,
// built by the tests from the embedded image's static busybox with GNU tar: no test
// ever reaches the network.
import { mkdirSync, symlinkSync, writeFileSync, copyFileSync } from "node:fs";
import { join } from "node:path";
import { tempDir } from "./helpers";

export const ARCH = ({ x64: "x86_64", arm64: "aarch64" } as Record<string, string>)[process.arch] ?? process.arch;
export const BUSYBOX = "build/busybox-static/bin/busybox";

/** A tiny root file system: busybox, sh, and an os-release naming `version`. */
export function miniRootfs(version: string): { dir: string; tree: string } {
  const dir = tempDir("rootfs");
  const tree = join(dir, "tree");
  for (const d of ["bin", "etc", "tmp", "proc", "sys", "dev"]) mkdirSync(join(tree, d), { recursive: true });
  copyFileSync(BUSYBOX, join(tree, "bin/busybox"));
  for (const applet of ["sh", "cat", "ls", "echo", "touch", "test"]) symlinkSync("busybox", join(tree, "bin", applet));
  writeFileSync(join(tree, "etc/os-release"), `NAME="test alpine"\nVERSION_ID=${version}\n`);
  return { dir, tree };
}

/** GNU tar of a directory's contents, compressed with `compress` (a filter command) or not. */
export function tarOf(tree: string, compress?: string[]): Uint8Array {
  const tar = Bun.spawnSync(["tar", "-C", tree, "-cf", "-", "."], { stdout: "pipe" });
  if (tar.exitCode !== 0) throw new Error("tar failed");
  if (!compress) return tar.stdout;
  return Bun.spawnSync(compress, { stdin: tar.stdout, stdout: "pipe" }).stdout;
}

export function sha(data: Uint8Array, algorithm: "sha256" | "sha512" = "sha256"): string {
  return new Bun.CryptoHasher(algorithm).update(data).digest("hex");
}

export function releasesYaml(version: string, file: string, data: Uint8Array, digests = { sha256: sha(data), sha512: sha(data, "sha512") }): string {
  return `---
-
  title: "Mini root filesystem"
  desc: "Minimal root filesystem.\\nFor use in containers\\nand minimal chroots."
  branch: v${version.split(".").slice(0, 2).join(".")}
  arch: ${ARCH}
  version: ${version}
  flavor: alpine-minirootfs
  file: ${file}
  iso: ${file}
  date: 2026-01-01
  size: ${data.byteLength}
  sha256: ${digests.sha256}
  sha512: ${digests.sha512}
`;
}

export type Handler = (req: Request, url: URL) => Response | Promise<Response>;

/** Serves `routes` (path → body or handler) on 127.0.0.1; every request is counted. */
export function serve(routes: Record<string, Uint8Array | string | Handler>) {
  const hits: string[] = [];
  const server = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    idleTimeout: 0,
    fetch(req) {
      const url = new URL(req.url);
      hits.push(url.pathname);
      const route = routes[url.pathname];
      if (route === undefined) return new Response("not found", { status: 404 });
      return typeof route === "function" ? route(req, url) : new Response(route);
    },
  });
  return { url: `http://127.0.0.1:${server.port}`, hits, stop: () => server.stop(true) };
}

/** An Alpine-like mirror at {url}/alpine serving one release of `version`. */
export function alpineMirror(version: string, archive: Uint8Array, over: { file?: Handler; yaml?: string } = {}) {
  const branch = `v${version.split(".").slice(0, 2).join(".")}`;
  const file = `alpine-minirootfs-${version}-${ARCH}.tar.gz`;
  const base = `/alpine/${branch}/releases/${ARCH}`;
  const yaml = over.yaml ?? releasesYaml(version, file, archive);
  const server = serve({ [`${base}/latest-releases.yaml`]: yaml, [`${base}/${file}`]: over.file ?? archive });
  return { ...server, mirror: `${server.url}/alpine`, fileUrl: `${server.url}${base}/${file}` };
}

/** A bare TCP server that answers any request with a Content-Length of all of `data` but
 * sends only its first half, then closes the connection: a connection dropped mid-way. */
export function dropper(data: Uint8Array) {
  const reply = Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\r\ncontent-length: ${data.byteLength}\r\n\r\n`), data.subarray(0, data.byteLength >> 1)]);
  const sent = new WeakMap<object, number>();
  const push = (socket: { write(b: Uint8Array): number; end(): void }) => {
    let off = sent.get(socket) ?? 0;
    off += Math.max(0, socket.write(reply.subarray(off)));
    sent.set(socket, off);
    if (off >= reply.byteLength) socket.end();
  };
  const server = Bun.listen({ hostname: "127.0.0.1", port: 0, socket: { data: push, drain: push } });
  return { url: `http://127.0.0.1:${server.port}/rootfs.tar.gz`, stop: () => server.stop(true) };
}
