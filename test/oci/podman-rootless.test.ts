// podman as an ordinary user (made for the test, removed after) with --runtime mycfs: mycfs
// runs in podman's user namespace, as root there and nowhere else. Its state goes to the
// user's XDG_RUNTIME_DIR, device nodes are bound from the host (mknod is refused there),
// the container runs without a cgroup on this host (cgroup v1 is not delegated), and exec
// goes through the enter program (the container shares mycfs's user namespace).
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { mycfs, testUser } from "../helpers";

const account = testUser("p", "podman-rootless");
const { name: user, dir, bin, home } = account;

async function asUser(script: string) {
  const env = [`HOME=${home}`, `TMPDIR=${home}`, `XDG_RUNTIME_DIR=${home}/run`, `CONTAINERS_CONF=${home}/containers.conf`];
  const p = Bun.spawn(["setpriv", `--reuid=${user}`, `--regid=${user}`, "--init-groups", "env", ...env, "sh", "-c", script], {
    cwd: dir,
    stdin: "ignore",
    stdout: "pipe",
    stderr: "pipe",
  });
  const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  return { code, stdout, stderr };
}

const podman = (args: string) => asUser(`podman --root ${home}/storage --runroot ${home}/runroot --storage-driver vfs --runtime ${bin} ${args}`);

beforeAll(async () => {
  account.create();
  const archive = join(dir, "busybox.tar");
  const saved = await mycfs(["save", "--root", join(dir, "store"), "busybox", "-o", archive]);
  if (saved.code !== 0) throw new Error(`mycfs save: ${saved.stderr}`);
  chmodSync(archive, 0o644);
  // no event log; podman's per-run ulimits as the user has them
  const setup = await asUser(
    `mkdir -p ${home}/run && printf '[containers]\\ndefault_ulimits = []\\n[engine]\\nevents_logger = "none"\\ncgroup_manager = "cgroupfs"\\n' > ${home}/containers.conf`,
  );
  if (setup.code !== 0) throw new Error(setup.stderr);
  const loaded = await podman(`load -i ${archive}`);
  if (loaded.code !== 0) throw new Error(`podman load: ${loaded.stderr}`);
});

afterAll(() => {
  // podman's pause process, which holds its user namespace, by its pid file
  const pause = `${home}/run/libpod/tmp/pause.pid`;
  if (existsSync(pause)) Bun.spawnSync(["kill", "-9", readFileSync(pause, "utf8").trim()]);
  account.remove();
});

describe("rootless podman --runtime mycfs", () => {
  test("run --rm: root in the container is the user on the host", async () => {
    const r = await podman("run --rm --network none busybox sh -c 'id -u; cat /proc/self/uid_map | head -1; ls /dev/null'");
    expect(r.stdout.split("\n").slice(0, 1)).toEqual(["0"]);
    const uid = Number(Bun.spawnSync(["id", "-u", user]).stdout.toString());
    expect(r.stdout.split("\n")[1]!.trim().split(/\s+/)).toEqual(["0", String(uid), "1"]);
    expect(r.stdout).toContain("/dev/null\n");
    expect(r.code).toBe(0);
    expect(readdirSync(`${home}/run/mycfs-oci`)).toEqual([]);
  });

  test("run -d, exec, stop, logs, rm, --user", async () => {
    const started = await podman(`run -d --name web --network none busybox sh -c 'echo started; trap "echo bye; exit 0" TERM; while :; do sleep 0.1; done'`);
    expect(started.code).toBe(0);
    const exec = await podman("exec web sh -c 'echo exec-ok; id -u'");
    expect(exec.stdout).toBe("exec-ok\n0\n");
    expect((await podman("exec --user 1000 web id -u")).stdout).toBe("1000\n");
    expect((await podman("stop -t 5 web")).code).toBe(0);
    expect((await podman("logs web")).stdout).toBe("started\nbye\n");
    expect((await podman("rm web")).code).toBe(0);
    expect((await podman("run --rm --network none --user 1000:1000 busybox id")).stdout).toBe("uid=1000(1000) gid=1000(1000) groups=1000(1000)\n");
  });

  test("--userns=keep-id: a user namespace of the container's own in podman's, the user's id inside", async () => {
    const r = await podman("run --rm --network none --userns=keep-id busybox id -u");
    expect(r.stdout).toBe(`${Number(Bun.spawnSync(["id", "-u", user]).stdout.toString())}\n`);
    expect(r.code).toBe(0);
  });
});
