// Debian's containerd, with its runc shim (containerd-shim-runc-v2), running a container
// through `ctr run --runc-binary mycfs`: a containerd daemon of the test's own (its root,
// state and socket in the test's directory, no CRI), in a mount namespace with an empty
// /var/lib and the test's directory on /run (the shim's runc root is /run/containerd/runc),
// and in the suite's own network namespace; the image is the busybox mycfs saves.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { existsSync, readdirSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { inMountNamespace, MYCFS, mycfs, mycfsCgroups, tempDir } from "../helpers";

const dir = tempDir("containerd");
const sock = join(dir, "containerd.sock");
let daemon: ReturnType<typeof Bun.spawn>;

/** argv in the daemon's mount namespace (nsenter: the shim and mycfs see its /run). */
const inDaemonNs = (argv: string[]) => ["nsenter", `--mount=/proc/${daemon.pid}/ns/mnt`, ...argv];

async function ctr(...args: string[]) {
  const p = Bun.spawn(inDaemonNs(["ctr", "--address", sock, ...args]), { stdin: "ignore", stdout: "pipe", stderr: "pipe", env: process.env });
  const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  return { code, stdout, stderr };
}

beforeAll(async () => {
  mkdirSync(join(dir, "run"));
  const plugins = ["grpc.v1.cri", "snapshotter.v1.btrfs", "snapshotter.v1.zfs", "snapshotter.v1.devmapper", "snapshotter.v1.aufs"].map(
    (p) => `"io.containerd.${p}"`,
  );
  writeFileSync(
    join(dir, "config.toml"),
    `version = 2\nroot = "${dir}/root"\nstate = "${dir}/state"\ndisabled_plugins = [${plugins.join(", ")}]\n` +
      `[grpc]\n  address = "${sock}"\n[ttrpc]\n  address = "${sock}.ttrpc"\n`,
  );
  daemon = Bun.spawn(
    inMountNamespace(`mount -t tmpfs none /var/lib && mount --bind ${dir}/run /run && exec "$@"`)(["containerd", "--config", join(dir, "config.toml")]),
    { stdin: "ignore", stdout: "ignore", stderr: Bun.file(join(dir, "containerd.log")), env: process.env },
  );
  for (let i = 0; i < 200 && !existsSync(sock); i++) await Bun.sleep(25);
  if (!existsSync(sock)) throw new Error("containerd did not start");
  const archive = join(dir, "busybox.tar");
  const saved = await mycfs(["save", "--root", join(dir, "store"), "busybox", "-o", archive]);
  if (saved.code !== 0) throw new Error(`mycfs save: ${saved.stderr}`);
  const imported = await ctr("image", "import", archive);
  if (imported.code !== 0) throw new Error(`ctr image import: ${imported.stderr}`);
});

afterAll(async () => {
  daemon.kill("SIGTERM");
  await daemon.exited;
  rmSync(dir, { recursive: true, force: true });
});

describe("ctr run --runc-binary mycfs", () => {
  const run = (id: string, ...cmd: string[]) =>
    ctr("run", "--rm", "--snapshotter", "native", "--runc-binary", MYCFS, "--cgroup", `/mycfs-test-ctr/${id}`, "docker.io/library/busybox:latest", id, ...cmd);

  test("runs a container: its output and exit code, nothing left", async () => {
    const r = await run("c1", "sh", "-c", "echo hello; grep -c :/mycfs-test-ctr/c1 /proc/self/cgroup; exit 4");
    expect(r.stderr).toBe("");
    expect(r.stdout).toMatch(/^hello\n[1-9]\d*\n$/); // in its cgroup, in every hierarchy it joined
    expect(r.code).toBe(4);
    expect(readdirSync(join(dir, "run", "containerd", "runc", "default"))).toEqual([]);
    expect(mycfsCgroups().filter((c) => c.includes("mycfs-test-ctr"))).toEqual([]);
  });
});
