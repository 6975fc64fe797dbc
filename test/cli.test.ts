// The executable as a user meets it: copied alone, explaining itself with --debug, and
// behaving at a terminal.
import { afterAll, describe, expect, test } from "bun:test";
import { copyFileSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { MYCFS, tempDir, terminal, testStore } from "./helpers";

const store = testStore("cli");
afterAll(store.cleanup);

describe("the single executable", () => {
  test("copied alone to another directory, it still runs containers", async () => {
    const dir = tempDir("copy");
    try {
      copyFileSync(MYCFS, join(dir, "mycfs"));
      Bun.spawnSync(["chmod", "+x", join(dir, "mycfs")]);
      const p = Bun.spawnSync(["./mycfs", "run", "--root", join(dir, "store"), "busybox", "cat", "/etc/os-release"], { cwd: dir, env: process.env });
      expect(p.exitCode).toBe(0);
      expect(p.stdout.toString()).toContain("BusyBox");
      // busybox's license travels with it
      const lic = Bun.spawnSync(["./mycfs", "run", "--root", join(dir, "store"), "busybox", "cat", "/usr/share/doc/busybox/copyright"], {
        cwd: dir,
        env: process.env,
      });
      expect(lic.stdout.toString()).toMatch(/GPL|General Public License/);
    } finally {
      Bun.spawnSync(["rm", "-rf", dir]);
    }
  });

  test("version and --version say which binary this is: version, commit, target, Bun, libmycfs", () => {
    const commit = Bun.spawnSync(["git", "rev-parse", "HEAD"]).stdout.toString().trim();
    const lib = new Bun.CryptoHasher("sha256").update(readFileSync("build/libmycfs.so")).digest("hex");
    const v = Bun.spawnSync([MYCFS, "version", "--format", "json"], { env: process.env });
    expect(v.exitCode).toBe(0);
    const info = JSON.parse(v.stdout.toString());
    expect(info).toEqual({
      version: JSON.parse(readFileSync("package.json", "utf8")).version,
      commit: expect.stringMatching(new RegExp(`^${commit}(-dirty)?$`)),
      target: `linux-${process.arch}`,
      bun: expect.stringMatching(new RegExp(`^${Bun.version.replaceAll(".", "\\.")} \\([0-9a-f]{12}\\)$`)),
      libmycfs: { build: expect.stringMatching(/^gcc [\d.]+.*, glibc \d+\.\d+, (x86_64|aarch64)$/), sha256: lib },
    });
    const text = Bun.spawnSync([MYCFS, "version"], { env: process.env }).stdout.toString();
    expect(text).toContain(`commit:   ${info.commit}\n`);
    expect(text).toContain(`libmycfs: ${info.libmycfs.build}\n          sha256:${lib}\n`);
    const line = Bun.spawnSync([MYCFS, "--version"], { env: process.env }).stdout.toString();
    expect(line).toBe(
      `mycfs ${info.version} (commit ${info.commit.slice(0, 12)}${info.commit.endsWith("-dirty") ? "-dirty" : ""}, ${info.target}, bun ${Bun.version}, libmycfs ${info.libmycfs.build})\n`,
    );
    const bad = Bun.spawnSync([MYCFS, "version", "--format", "yaml"], { stderr: "pipe", env: process.env });
    expect(bad.exitCode).toBe(125);
    expect(bad.stderr.toString()).toBe("mycfs: --format yaml: unknown format; use --format json\n");
  });

  test("--debug explains each step with its duration, on stderr only", async () => {
    const p = Bun.spawnSync([MYCFS, "run", "--debug", "--root", store.root, "busybox", "echo", "out"], { stderr: "pipe", env: process.env });
    expect(p.stdout.toString()).toBe("out\n");
    const err = p.stderr.toString();
    expect(err).toMatch(/mycfs: debug: pivot_root into .* and detach the host's root: \d+\.\d\d ms/);
    expect(err).toMatch(/mycfs: debug: mount a fresh \/proc that shows only the container's processes: \d+\.\d\d ms/);
    expect(err).toMatch(/container running \d+\.\d\d ms after clone/);
  });

  test("--dry-run prints the plan as the C side reads it, and runs nothing", async () => {
    const p = Bun.spawnSync([MYCFS, "run", "--dry-run", "--root", store.root, "busybox", "echo", "out"], { env: process.env });
    const out = p.stdout.toString();
    expect(p.exitCode).toBe(0);
    expect(out).toMatch(/^ {2}1 {2}PRCTL +make the child non-dumpable/);
    expect(out).toMatch(/\n {2}2 {2}UNSHARE/);
    expect(out).toContain("PIVOT_ROOT");
    expect(out).toMatch(/EXEC +execute echo\n +"\/usr\/local\/sbin:.*" "echo" "out"/);
    expect(out).not.toContain("\nout\n");
  });

  test("--dry-run's steps are those that run, number for number: a failing step has the number it showed", async () => {
    const args = ["run", "--root", store.root, "--tmpfs", "/etc/passwd", "busybox", "true"];
    const kept = () => readdirSync(join(store.root, "containers"));
    const real = Bun.spawnSync([MYCFS, ...args], { env: process.env });
    const step = /^mycfs: step (\d+), mount a tmpfs on \/etc\/passwd: /.exec(real.stderr.toString())?.[1];
    expect(step).toBeDefined();
    const before = kept();
    const dry = Bun.spawnSync([MYCFS, "run", "--dry-run", ...args.slice(1)], { env: process.env }).stdout.toString();
    expect(dry).toMatch(new RegExp(`\n {0,2}${step} {2}MOUNT +mount a tmpfs on /etc/passwd\n`));
    expect(dry).toMatch(/MOUNT +mount the image read-only under a copy-on-write overlay/);
    expect(kept()).toEqual(before); // nothing made, nothing kept
  });
});

describe("at a terminal", () => {
  test("a prompt, a terminal of its own, Ctrl-C inside the container, and the host terminal restored", async () => {
    const t = terminal(`stty rows 33 cols 77; stty -g > ${store.dir}/before; ${MYCFS} run --root ${store.root}; echo EXIT=$?; stty -g > ${store.dir}/after`);
    await t.waitFor("/ # ");
    t.type("echo in-$((20+22)); stty size; tty\n");
    await t.waitFor("in-42");
    await t.waitFor("33 77");
    await t.waitFor("/dev/pts/0"); // the container's own devpts: `tty` knows its name
    expect(await t.interruptSleep()).toBeLessThan(5000);
    t.type("exit 5\n");
    await t.waitFor("EXIT=5");
    await t.close();
    expect(readFileSync(`${store.dir}/after`, "utf8")).toBe(readFileSync(`${store.dir}/before`, "utf8"));
  });

  test("--init at a terminal: the command gets the terminal's foreground, and Ctrl-C", async () => {
    const t = terminal(`${MYCFS} run --rm --init --root ${store.root}; echo EXIT=$?`);
    await t.waitFor("/ # ");
    expect(await t.interruptSleep()).toBeLessThan(5000);
    t.type("exit 4\n");
    await t.waitFor("EXIT=4");
    await t.close();
  });
});
