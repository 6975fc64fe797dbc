// mycfs without sudo: an ordinary user, made for the test and removed after, runs
// containers whose root is that user on the host.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { chmodSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { alpineMirror, miniRootfs, tarOf } from "./cdn";
import { imageDir, testUser, userStoreOnOverlay } from "./helpers";
import { buildLayered, LOOK, SEEN } from "./layered";

const account = testUser("t", "rootless");
const { name: user, dir, bin } = account;
let uid = 0;

beforeAll(() => {
  uid = account.create();
});

afterAll(() => account.remove());

// asynchronous: a test's own server (the local mirror) must keep answering meanwhile
async function asUser(args: string[]) {
  // TMPDIR in the user's home, removed with it: where Bun writes out the embedded libmycfs
  const p = Bun.spawn(
    ["setpriv", `--reuid=${user}`, `--regid=${user}`, "--init-groups", "env", `HOME=/home/${user}`, `TMPDIR=/home/${user}`, "XDG_DATA_HOME=", bin, ...args],
    { cwd: dir, stdout: "pipe", stderr: "pipe" },
  );
  const [stdout, stderr, code] = await Promise.all([new Response(p.stdout).text(), new Response(p.stderr).text(), p.exited]);
  return { code, stdout, stderr };
}

/** f, with the user's /etc/subuid and /etc/subgid ranges taken away (useradd may or may not
 * have given some) and given back after: mycfs then writes the maps itself, not newuidmap. */
async function ownIdOnly<T>(f: () => Promise<T>): Promise<T> {
  const ranges = (file: string) =>
    readFileSync(file, "utf8")
      .split("\n")
      .filter((l) => l.startsWith(`${user}:`))
      .map((l) => {
        const [, start, count] = l.split(":").map(Number);
        return `${start}-${start! + count! - 1}`;
      });
  const [uids, gids] = [ranges("/etc/subuid"), ranges("/etc/subgid")];
  const usermod = (flag: string, rs: string[]) => rs.length && Bun.spawnSync(["usermod", flag, rs.join(","), user]);
  usermod("--del-subuids", uids);
  usermod("--del-subgids", gids);
  try {
    return await f();
  } finally {
    usermod("--add-subuids", uids);
    usermod("--add-subgids", gids);
  }
}

describe("rootless", () => {
  test("root inside is the user outside; exit codes come back; the store is the user's", async () => {
    const r = await asUser(["run", "--rm", "busybox", "sh", "-c", "id -u; head -1 /proc/self/uid_map; stat -c %u /bin/busybox; exit 3"]);
    expect(r.code).toBe(3);
    const [id, map, owner] = r.stdout.trim().split("\n");
    expect(id).toBe("0");
    expect(map!.trim().split(/\s+/)).toEqual(["0", String(uid), "1"]);
    expect(owner).toBe("0");
    expect(statSync(imageDir(`/home/${user}/.local/share/mycfs`)).uid).toBe(uid);
  });

  test("with no /etc/subuid range, the caller's own id alone is mapped, and the container starts all the same", async () => {
    const r = await ownIdOnly(() => asUser(["run", "--rm", "busybox", "sh", "-c", "wc -l < /proc/self/uid_map; stat -c %g /dev/pts/ptmx"]));
    expect(r).toMatchObject({ code: 0, stdout: "1\n0\n" });
    // root is the one user there can be
    const other = await ownIdOnly(() => asUser(["run", "--rm", "-u", "nobody", "busybox", "id"]));
    expect(other).toMatchObject({
      code: 125,
      stderr: expect.stringContaining("mycfs: -u nobody: without root, and without subordinate ids of yours in /etc/subuid"),
    });
  });

  test("with a subordinate range, -u takes a user of the image inside it", async () => {
    const r = await asUser(["run", "--rm", "-u", "nobody", "--group-add", "tty", "busybox", "id"]);
    // useradd gave the user an /etc/subuid range where newuidmap is installed (Debian's uidmap)
    const subuid = Bun.which("newuidmap") && readFileSync("/etc/subuid", "utf8").includes(`${user}:`);
    expect(r).toMatchObject(subuid ? { code: 0, stdout: "uid=65534(nobody) gid=65534(nogroup) groups=5(tty),65534(nogroup)\n" } : { code: 125 });
  });

  test("where overlayfs cannot be mounted (the store on overlayfs), the container runs on a copy, as the user", async () => {
    const { root, remove } = userStoreOnOverlay(join(dir, "on-overlay"), user);
    try {
      // the second attempt is a second child, whose maps mycfs writes itself as the first's
      const r = await ownIdOnly(() => asUser(["run", "--rm", "--root", root, "busybox", "sh", "-c", "id -u"]));
      expect(r).toMatchObject({ code: 0, stdout: "0\n" });
    } finally {
      remove();
    }
  });

  test("a file created in a bind volume belongs to the user; nothing is left in the store", async () => {
    const vol = join(dir, "vol");
    mkdirSync(vol);
    chmodSync(vol, 0o777);
    expect((await asUser(["run", "--rm", "-v", `${vol}:/vol`, "busybox", "touch", "/vol/made"])).code).toBe(0);
    expect(statSync(join(vol, "made")).uid).toBe(uid);
    expect(readdirSync(`/home/${user}/.local/share/mycfs/containers`)).toEqual([]);
  });

  test("pulls from a (local) mirror and runs what it pulled, all as the user", async () => {
    const { dir: made, tree } = miniRootfs("3.99.1");
    const cdn = alpineMirror("3.99.1", tarOf(tree, ["gzip", "-1"]));
    try {
      const pull = await asUser(["pull", "--mirror", cdn.mirror, "alpine:3.99"]);
      expect(pull).toMatchObject({ code: 0, stdout: expect.stringMatching(/^sha256:[0-9a-f]{64}\n$/) });
      const r = await asUser(["run", "--rm", "alpine:3.99", "sh", "-c", "cat /etc/os-release; id -u"]);
      expect(r).toMatchObject({ code: 0, stdout: 'NAME="test alpine"\nVERSION_ID=3.99.1\n0\n' });
    } finally {
      cdn.stop();
      rmSync(made, { recursive: true, force: true });
    }
  });

  test("a layered image with whiteouts and an opaque directory, imported and run as the user", async () => {
    const work = join(dir, "layered");
    mkdirSync(work);
    buildLayered(work);
    Bun.spawnSync(["chmod", "-R", "a+rX", work]);
    expect(await asUser(["import", join(work, "layout"), "layered:1"])).toMatchObject({ code: 0 });

    const r = await asUser(["run", "--rm", "--entrypoint", "sh", "layered:1", "-c", LOOK]);
    expect(r).toMatchObject({ code: 0, stdout: SEEN });
  });

  test("a detached rootless container can be exec'd into: its PID namespace, its root", async () => {
    const id = (await asUser(["run", "-d", "--name", "r", "busybox", "sh", "-c", "sleep 30"])).stdout.trim();
    try {
      expect(id).toMatch(/^[0-9a-f]{64}$/);
      const r = await asUser(["exec", "r", "sh", "-c", "id -u; ps -o pid,comm | grep -c sleep"]);
      expect(r).toMatchObject({ code: 0, stdout: "0\n1\n" });
      expect((await asUser(["exec", "r", "sh", "-c", "exit 5"])).code).toBe(5);
    } finally {
      expect((await asUser(["rm", "-f", "r"])).code).toBe(0);
    }
  });

  test("privileges stay within the namespace; limits without a delegated cgroup are refused clearly", async () => {
    const r = await asUser(["run", "--rm", "busybox", "sh", "-c", "mknod /tmp/n c 1 3 2>&1; touch /tmp/f && chown 1000:1000 /tmp/f && stat -c %u /tmp/f"]);
    expect(r.stdout).toContain("Operation not permitted");
    // useradd gave the user an /etc/subuid range, so ids other than root exist inside
    const subuid = Bun.which("newuidmap") && readFileSync("/etc/subuid", "utf8").includes(`${user}:`);
    if (subuid) expect(r.stdout.trim().split("\n").at(-1)).toBe("1000");
    // --network none: the suite's namespace has no route out, and the default would say so first
    const limited = await asUser(["run", "--network", "none", "--memory", "32m", "busybox", "true"]);
    expect(limited.code).toBe(125);
    expect(limited.stderr).toMatch(
      /^mycfs: --memory: the container's cgroup cannot be made in \/sys\/fs\/cgroup\/\S+: Permission denied \(EACCES\); resource limits without root need a cgroup v2 subtree delegated to you \(run mycfs under `systemd-run --user --scope -p Delegate=yes`\), or run without limits\n$/,
    );
    expect(await asUser(["run", "--userns=auto", "busybox", "true"])).toMatchObject({ code: 125 });
    // a user namespace is what lets the user make the others: "host" cannot be had, and says so
    expect(await asUser(["run", "--userns", "host", "busybox", "true"])).toEqual({
      code: 125,
      stdout: "",
      stderr: "mycfs: --userns host: without root a container needs a user namespace of its own (root inside is you); drop the flag, or run mycfs with sudo\n",
    });
  });
});
