// Who a container's process is, as docker makes it: -u and --group-add for run and exec,
// the capabilities of a user other than root, and an image's config (Entrypoint, Cmd, Env,
// WorkingDir, User, StopSignal) under run's flags. Real containers of the embedded busybox
// image, and of an image made from it with accounts and a config of its own.
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { cpSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseRef } from "../src/images/refs";
import { Store } from "../src/images/store";
import { imageDir, MYCFS, mycfs, startUntil, terminal, testStore } from "./helpers";

const store = testStore("user");
afterAll(store.cleanup);
const m = (args: string[]) => mycfs([args[0]!, "--root", store.root, ...args.slice(1)]);
const run = (args: string[], cmd: string[]) => m(["run", "--rm", ...args, "busybox", ...cmd]);
const sh = (args: string[], script: string) => run(args, ["sh", "-c", script]);

describe("-u and --group-add", () => {
  test("a uid without a passwd entry has gid 0, as docker's; a name its entry's ids and home; a group given is the gid", async () => {
    expect(await run([], ["id"])).toMatchObject({ code: 0, stdout: "uid=0(root) gid=0(root) groups=0(root)\n" });
    expect((await run(["-u", "1000"], ["id"])).stdout).toBe("uid=1000 gid=0(root) groups=0(root)\n");
    expect((await run(["-u", "nobody"], ["id"])).stdout).toBe("uid=65534(nobody) gid=65534(nogroup) groups=65534(nogroup)\n");
    expect((await run(["--user", "1000:1000"], ["id"])).stdout).toBe("uid=1000 gid=1000 groups=1000\n");
    expect((await run(["-u", "nobody:tty"], ["id"])).stdout).toBe("uid=65534(nobody) gid=5(tty) groups=5(tty)\n");
  });

  test("--group-add: by name or gid, beside the user's own", async () => {
    const r = await run(["-u", "nobody", "--group-add", "tty", "--group-add", "77"], ["id"]);
    expect(r.stdout).toBe("uid=65534(nobody) gid=65534(nogroup) groups=5(tty),77,65534(nogroup)\n");
  });

  test("an unknown user or group is one line naming it and the file, exit 125, before anything runs", async () => {
    expect(await run(["-u", "bob"], ["id"])).toMatchObject({
      code: 125,
      stdout: "",
      stderr: "mycfs: -u bob: no user bob in the image's /etc/passwd; give a user it lists, or a numeric uid\n",
    });
    expect(await run(["-u", "nobody:staff"], ["id"])).toMatchObject({
      code: 125,
      stderr: "mycfs: -u nobody:staff: no group staff in the image's /etc/group; give a group it lists, or a numeric gid\n",
    });
    expect(await run(["--group-add", "staff"], ["id"])).toMatchObject({
      code: 125,
      stderr: expect.stringContaining("--group-add staff: no group staff in the image's /etc/group"),
    });
  });

  test("HOME is the user's home, / without an entry, unless -e sets it", async () => {
    const home = async (args: string[]) => (await sh(args, "echo $HOME")).stdout;
    expect(await home([])).toBe("/root\n");
    expect(await home(["-u", "nobody"])).toBe("/nonexistent\n");
    expect(await home(["-u", "4242"])).toBe("/\n");
    expect(await home(["-u", "nobody", "-e", "HOME=/data"])).toBe("/data\n");
  });

  test("a user other than root has no capability permitted or effective; the bounding set is root's", async () => {
    const caps = async (args: string[]) =>
      Object.fromEntries(
        (await sh(args, "grep ^Cap /proc/self/status")).stdout
          .trim()
          .split("\n")
          .map((l) => l.split(/:\s+/)),
      );
    const root = await caps([]);
    expect(root.CapEff).not.toBe("0000000000000000");
    for (const args of [
      ["-u", "1000"],
      ["-u", "nobody", "--security-opt", "no-new-privileges=false"],
    ])
      expect(await caps(args)).toEqual({
        CapInh: "0000000000000000",
        CapPrm: "0000000000000000",
        CapEff: "0000000000000000",
        CapBnd: root.CapBnd,
        CapAmb: "0000000000000000",
      });
    // -u 0:GID stays root, with root's capabilities
    expect((await caps(["-u", "0:1000"])).CapEff).toBe(root.CapEff);
  });

  test("--rootfs: the directory's own files name the users; without them root, HOME /", async () => {
    expect((await m(["run", "--rm", "--rootfs", imageDir(store.root), "-u", "nobody", "id", "-u"])).stdout).toBe("65534\n");
    const bare = join(store.dir, "bare");
    cpSync(join(imageDir(store.root), "bin"), join(bare, "bin"), { recursive: true, verbatimSymlinks: true });
    expect((await m(["run", "--rm", "--rootfs", bare, "sh", "-c", "id; echo $HOME"])).stdout).toBe("uid=0 gid=0 groups=0\n/\n");
    expect(await m(["run", "--rm", "--rootfs", bare, "-u", "bob", "id"])).toMatchObject({
      code: 125,
      stderr: expect.stringContaining("-u bob: no user bob in the root file system's /etc/passwd"),
    });
  });

  test("-t: the container's terminal belongs to its user, who can reopen it", async () => {
    const t = terminal(
      `${MYCFS} run --rm --root ${store.root} -t -u nobody busybox sh -c 'stat -c %u:%g $(tty); echo x > /dev/tty && echo reopened'; echo EXIT=$?`,
    );
    await t.waitFor("EXIT=");
    expect(t.output()).toContain("65534:65534");
    expect(t.output()).toContain("reopened");
    expect(t.output()).toContain("EXIT=0");
    await t.close();
  });

  test("--dry-run shows the ids the child takes, after the bounding set and before the other sets", async () => {
    const r = await m(["run", "--dry-run", "-u", "nobody", "--group-add", "tty", "busybox", "id"]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(
      /CAPBSET .*\n.*\n.*SETID +become uid 65534, gid 65534, supplementary groups 65534, 5 \(the container's user\)\n.*a=0xfffe b=65534 c=2\n.*CAPS +no capability permitted/,
    );
  });

  test('--entrypoint replaces the image\'s; "" leaves no command without one on the line', async () => {
    expect((await run(["--entrypoint", "/bin/echo"], ["hi", "there"])).stdout).toBe("hi there\n");
    expect((await run(["--entrypoint", ""], ["echo", "plain"])).stdout).toBe("plain\n");
    expect(await run(["--entrypoint", ""], [])).toMatchObject({
      code: 125,
      stderr: expect.stringContaining('busybox: no command to run (--entrypoint "" cleared its Entrypoint)'),
    });
  });
});

describe("an image's config", () => {
  const ref = "configured:1";
  beforeAll(async () => {
    // the embedded image, with accounts of its own, imported as a tarball, then given a config
    expect((await run([], ["true"])).code).toBe(0);
    const root = join(store.dir, "configured");
    cpSync(imageDir(store.root), root, { recursive: true, verbatimSymlinks: true });
    writeFileSync(join(root, "etc/passwd"), "root:x:0:0:root:/root:/bin/sh\napp:x:1000:1000:app:/home/app:/bin/sh\n");
    writeFileSync(join(root, "etc/group"), "root:x:0:\napp:x:1000:\nstaff:x:50:app\n");
    const tar = join(store.dir, "configured.tar");
    expect(Bun.spawnSync(["tar", "-C", root, "-cf", tar, "."]).exitCode).toBe(0);
    expect((await m(["import", tar, ref])).code).toBe(0);
    const file = new Store(store.root).imageFile(parseRef(ref));
    const record = JSON.parse(readFileSync(file, "utf8"));
    record.config = {
      Entrypoint: ["/bin/sh", "-c"],
      Cmd: ['id; pwd; echo "$GREETING $HOME $PATH"'],
      Env: ["GREETING=hello", "PATH=/bin:/sbin"],
      WorkingDir: "/srv/app",
      User: "app",
      StopSignal: "SIGUSR1",
    };
    writeFileSync(file, JSON.stringify(record));
  });
  const runImage = (args: string[], cmd: string[] = []) => m(["run", "--rm", ...args, ref, ...cmd]);

  test("Entrypoint and Cmd, Env, WorkingDir (made if missing) and User, with the groups that list the user", async () => {
    expect(await runImage([])).toMatchObject({
      code: 0,
      stdout: "uid=1000(app) gid=1000(app) groups=50(staff),1000(app)\n/srv/app\nhello /home/app /bin:/sbin\n",
    });
  });

  test("the flags win: a command replaces Cmd, -u, -w and -e replace theirs, --entrypoint drops Cmd", async () => {
    expect((await runImage([], ["echo replaced"])).stdout).toBe("replaced\n");
    const r = await runImage(["-u", "root", "-w", "/tmp", "-e", "GREETING=bye"]);
    expect(r.stdout).toBe("uid=0(root) gid=0(root) groups=0(root)\n/tmp\nbye /root /bin:/sbin\n");
    expect((await runImage(["--entrypoint", "/bin/echo"])).stdout).toBe("\n");
  });

  test("mycfs stop sends the image's StopSignal, or --stop-signal's", async () => {
    const stopped = async (args: string[], signal: string) => {
      const name = `stop-${signal}`;
      const c = await startUntil([
        "run",
        "--root",
        store.root,
        "--name",
        name,
        ...args,
        "--entrypoint",
        "/bin/sh",
        ref,
        "-c",
        `trap 'echo got ${signal}; exit 7' ${signal}; echo ready; while :; do sleep 0.1; done`,
      ]);
      const t0 = Date.now();
      expect((await m(["stop", name])).code).toBe(0);
      expect(Date.now() - t0).toBeLessThan(5000); // not the 10 s until SIGKILL
      expect(await c.proc.exited).toBe(7);
      expect(await c.output()).toContain(`got ${signal}`);
      expect((await m(["rm", name])).code).toBe(0);
    };
    await stopped([], "USR1");
    await stopped(["--stop-signal", "HUP"], "HUP");
  });
});

describe("exec's user", () => {
  const name = "exec-user";
  beforeAll(async () => {
    expect((await m(["run", "-d", "--name", name, "-u", "nobody", "--group-add", "tty", "busybox", "sleep", "60"])).code).toBe(0);
  });
  afterAll(() => m(["rm", "-f", name]));
  const exec = (args: string[]) => m(["exec", ...args]);

  test("by default the container's user, its groups and HOME", async () => {
    expect((await exec([name, "id"])).stdout).toBe("uid=65534(nobody) gid=65534(nogroup) groups=5(tty),65534(nogroup)\n");
    expect((await exec([name, "sh", "-c", "echo $HOME; grep ^CapEff /proc/self/status"])).stdout).toBe("/nonexistent\nCapEff:\t0000000000000000\n");
  });

  test("-u: resolved in the container's files as they are now, with run's --group-add, and exec's", async () => {
    expect((await exec(["-u", "root", name, "sh", "-c", "id; echo $HOME"])).stdout).toBe("uid=0(root) gid=0(root) groups=0(root),5(tty)\n/root\n");
    expect((await exec(["-u", "1000:1000", "--group-add", "9", name, "id"])).stdout).toBe("uid=1000 gid=1000 groups=5(tty),9,1000\n");
    expect((await exec(["-u", "root", name, "sh", "-c", "echo late:x:2000:2000::/late:/bin/sh >> /etc/passwd"])).code).toBe(0);
    expect((await exec(["-u", "late", name, "sh", "-c", "id -u; echo $HOME"])).stdout).toBe("2000\n/late\n");
    expect(await exec(["-u", "bob", name, "id"])).toMatchObject({
      code: 125,
      stderr: "mycfs: -u bob: no user bob in the container's /etc/passwd; give a user it lists, or a numeric uid\n",
    });
  });

  test("the container's files are hostile: a fifo is refused without blocking, a symlink stays inside the container", async () => {
    const canary = join(store.dir, "passwd");
    writeFileSync(canary, "evil:x:0:0::/:/bin/sh\n");
    expect((await exec(["-u", "root", name, "ln", "-sf", `/../../../..${canary}`, "/etc/passwd"])).code).toBe(0);
    expect(await exec(["-u", "evil", name, "id"])).toMatchObject({ code: 125, stderr: expect.stringContaining("no user evil in the container's /etc/passwd") });
    expect((await exec(["-u", "0", name, "sh", "-c", "rm /etc/group && mkfifo /etc/group"])).code).toBe(0);
    expect(await exec(["-u", "0", name, "id"])).toMatchObject({
      code: 125,
      stderr: "mycfs: the container's /etc/group is not a regular file; it cannot be read\n",
    });
    // without -u or --group-add nothing is read
    expect((await exec([name, "id", "-u"])).stdout).toBe("65534\n");
  });
});
