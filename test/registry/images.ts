// The images the registry tests push, and pulling one through src/registry as mycfs pull
// will: resolve it, then fetch every layer through its verifying stream; with what the
// tests check pulls by (a failure's message, the environment credentials are read from).
import type { Platform } from "../../src/images/config";
import { Registry, type RegistryOptions } from "../../src/registry/client";
import { parseReference } from "../../src/registry/reference";
import { resolveImage } from "../../src/images/resolve";
import type { Entry, ImageSpec } from "./layout";

/** Two layers (gzip, then zstd) with every kind of entry, and a config with every field. */
export function sampleImage(tag: string, platform?: Platform): ImageSpec {
  return {
    platform,
    layers: [
      {
        entries: [
          { dir: "etc" },
          { file: "etc/os-release", content: `ID=${tag}\n` },
          { file: "etc/gone", content: "removed above" },
          { dir: "opt/old", mode: 0o700, uid: 1000, gid: 1000 },
          { file: "opt/old/file", content: "hidden above" },
          { file: "bin/tool", content: "#!/bin/sh\necho hi\n", mode: 0o755 },
          { symlink: "bin/link", target: "tool" },
          { hardlink: "bin/hard", target: "bin/tool" },
        ],
      },
      {
        compression: "zstd",
        entries: [{ whiteout: "etc/gone" }, { opaque: "opt/old" }, { file: "opt/old/new", content: "new" }],
      },
    ],
    config: {
      Entrypoint: ["/bin/tool"],
      Cmd: ["--flag"],
      Env: ["PATH=/bin", `TAG=${tag}`],
      User: "1000:1000",
      WorkingDir: "/opt",
      Labels: { tag },
      ExposedPorts: { "80/tcp": {} },
      StopSignal: "SIGQUIT",
    },
  };
}

/** An image pulled whole: what resolveImage says and every layer's bytes, verified. */
export async function pull(image: string, opts: RegistryOptions & { platform?: Platform } = {}) {
  const ref = parseReference(image);
  const registry = new Registry(ref, opts);
  const resolved = await resolveImage(registry, ref.digest ?? ref.tag!, { platform: opts.platform });
  const layers = [];
  for (const l of resolved.manifest.layers) layers.push(new Uint8Array(await new Response(registry.blob(l).body).arrayBuffer()));
  return { ...resolved, layers };
}

/** What a failed promise said ("no error" if it did not fail). */
export const failure = (p: Promise<unknown>) =>
  p.then(
    () => "no error",
    (e: Error) => e.message,
  );

/** Sets variables of process.env (which the pulls made in this process read); returns
 * what restores them. */
export function setEnv(vars: Record<string, string>): () => void {
  const saved = Object.fromEntries(Object.keys(vars).map((k) => [k, process.env[k]]));
  Object.assign(process.env, vars);
  return () => {
    for (const [k, v] of Object.entries(saved)) v === undefined ? delete process.env[k] : (process.env[k] = v);
  };
}

/** A runnable base layer: busybox from the embedded image's tarball, its applets linked,
 * and an /etc/passwd and /etc/group with root, app (1000, also in group "extra") and nobody. */
export async function busyboxLayer(): Promise<Entry[]> {
  const { unpackTar } = await import("modern-tar");
  const tar = Bun.gunzipSync(await Bun.file("build/busybox.tar.gz").bytes());
  const binary = (await unpackTar(tar)).find((e) => e.header.name.replace(/^\.\//, "") === "bin/busybox")?.data;
  if (!binary) throw new Error("no bin/busybox in build/busybox.tar.gz");
  const applets = ["sh", "ls", "cat", "id", "echo", "test", "stat", "pwd", "env", "true", "sleep"];
  return [
    { dir: "bin" },
    { file: "bin/busybox", content: binary, mode: 0o755 },
    ...applets.map((a) => ({ symlink: `bin/${a}`, target: "busybox" })),
    { dir: "etc" },
    {
      file: "etc/passwd",
      content: "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n",
    },
    { file: "etc/group", content: "root:x:0:\napp:x:1000:\nextra:x:2000:app\nnogroup:x:65534:\n" },
    { dir: "tmp", mode: 0o1777 },
  ];
}
