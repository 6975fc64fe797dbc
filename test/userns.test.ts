// User namespaces: root inside is an unprivileged uid range on the host.
import { afterAll, describe, expect, test } from "bun:test";
import { chmodSync, mkdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { autoUserns } from "../src/container/userns";
import { readFile } from "../src/native/lib";
import { childrenOf, isRunning, mycfs, startUntil, testStore } from "./helpers";

describe("--userns=auto as root", () => {
  // the container's root is an unprivileged uid: the store must be reachable by it
  const store = testStore("userns");
  chmodSync(store.dir, 0o711);
  afterAll(store.cleanup);
  const run = (args: string[], cmd: string[]) => mycfs(["run", "--root", store.root, "--userns=auto", ...args, "busybox", ...cmd]);
  const base = autoUserns(readFile("/etc/subuid"), readFile("/etc/subgid")).uids[0]!.outside;

  test("root inside, the map shows the host range, the image's files are root's", async () => {
    const r = await run([], ["sh", "-c", "id -u; cat /proc/self/uid_map; stat -c %u:%g / /bin/busybox; touch /made && stat -c %u /made"]);
    expect(r.code).toBe(0);
    const [uid, map, root, busybox, made] = r.stdout.trim().split("\n");
    expect(uid).toBe("0");
    expect(map!.trim().split(/\s+/)).toEqual(["0", String(base), "65536"]);
    expect([root, busybox, made]).toEqual(["0:0", "0:0", "0"]);
  });

  test("the container dies with mycfs, though becoming the namespace's root resets the kernel's parent-death signal", async () => {
    const c = await startUntil(["run", "--rm", "--root", store.root, "--userns=auto", "busybox", "sh", "-c", "echo ready; sleep 30"]);
    const [pid] = childrenOf(c.proc.pid);
    c.proc.kill("SIGKILL");
    await c.proc.exited;
    const deadline = Date.now() + 5000;
    while (isRunning(pid!) && Date.now() < deadline) await Bun.sleep(10);
    expect(isRunning(pid!)).toBe(false);
    await mycfs(["ps", "-a", "--root", store.root]); // cleans up after the dead mycfs
  });

  test("the host sees the container's processes under the mapped uid", async () => {
    const c = await startUntil(["run", "--root", store.root, "--userns=auto", "busybox", "sh", "-c", "echo ready; sleep 30"]);
    const [pid] = childrenOf(c.proc.pid);
    const uid = /^Uid:\s+(\d+)/m.exec(readFileSync(`/proc/${pid}/status`, "utf8"))![1];
    c.proc.kill("SIGTERM");
    process.kill(pid!, "SIGKILL");
    await c.proc.exited;
    expect(Number(uid)).toBe(base);
  });

  test("root inside cannot read a root-only host file, nor make device nodes", async () => {
    const secret = join(store.dir, "secret");
    writeFileSync(secret, "host secret\n", { mode: 0o600 });
    const r = await run(["-v", `${secret}:/secret:ro`, "--cap-add", "ALL"], ["sh", "-c", "cat /secret; mknod /tmp/null c 1 3 && echo made-a-device"]);
    expect(r.stdout).not.toContain("host secret");
    expect(r.stderr).toContain("Permission denied");
    expect(r.stdout).not.toContain("made-a-device");
  });

  test("a file the container creates in a volume belongs to the mapped uid on the host", async () => {
    const vol = join(store.dir, "vol");
    mkdirSync(vol, { recursive: true });
    chmodSync(vol, 0o777);
    expect((await run(["-v", `${vol}:/vol`], ["touch", "/vol/by-container"])).code).toBe(0);
    expect(statSync(join(vol, "by-container")).uid).toBe(base);
  });

  test("without id-mapped mounts: a copy chowned onto the range, made once and said why", async () => {
    const env = { MYCFS_IDMAP: "0" };
    const first = await mycfs(["run", "--root", store.root, "--userns=auto", "busybox", "stat", "-c", "%u:%g", "/bin/busybox"], { env });
    expect(first).toMatchObject({ code: 0, stdout: "0:0\n" });
    expect(first.stderr).toMatch(/copying layer [0-9a-f]{12} with its owners shifted to \d+:\d+, once/);
    const again = await mycfs(["run", "--root", store.root, "--userns=auto", "busybox", "true"], { env });
    expect(again).toMatchObject({ code: 0, stderr: "" });
  });

  test("an explicit --uidmap, and bad maps are refused before anything runs", async () => {
    const r = await mycfs(["run", "--root", store.root, "--uidmap", "0:300000:1000", "busybox", "cat", "/proc/self/uid_map", "/proc/self/gid_map"]);
    expect(
      r.stdout
        .trim()
        .split("\n")
        .map((l) => l.trim().split(/\s+/).join(":")),
    ).toEqual(["0:300000:1000", "0:300000:1000"]);
    const bad = await mycfs(["run", "--root", store.root, "--uidmap", "0:1000:10", "--uidmap", "5:2000:10", "busybox", "true"]);
    expect(bad).toMatchObject({ code: 125, stderr: "mycfs: --uidmap: ranges 0:1000:10 and 5:2000:10 overlap in the container\n" });
  });
});
