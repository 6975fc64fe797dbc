// Parsing what the user typed: pure functions, no root needed.
import { afterAll, describe, expect, test } from "bun:test";
import { mkdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseOptions } from "../src/cli/argv";
import { buildEnv, command, containerPath, DEFAULT_PATH, inRoot, parseTmpfs, parseVolume, readEnvFile, userEnv, validHostname } from "../src/container/options";
import { MycfsError } from "../src/errors";
import { exitCode, failureError } from "../src/container/run";
import { exec, mount } from "../src/plan/ops";
import { tempDir } from "./helpers";

describe("parseOptions", () => {
  const def = {
    env: { type: "string", alias: "e" },
    init: { type: "boolean" },
    workdir: { type: "string", alias: "w" },
  } as const;
  const rep = new Set(["env"]);

  test("options stop at the first positional; the command keeps its own flags", () => {
    const p = parseOptions("run", def, ["-e", "A=1", "--env=B=2", "-eC=3", "--init", "img", "sh", "-c", "ls -l", "--init"], rep);
    expect(p.values).toEqual({ env: ["A=1", "B=2", "C=3"], init: true });
    expect(p.positionals).toEqual(["img", "sh", "-c", "ls -l", "--init"]);
    expect(p.dashDash).toBe(false);
  });

  test("-- ends the options; a later value of a single option wins", () => {
    const p = parseOptions("run", def, ["-w", "/a", "--workdir", "/b", "--", "-x"], rep);
    expect(p.values.workdir).toBe("/b");
    expect(p).toMatchObject({ positionals: ["-x"], dashDash: true });
  });

  test("unknown flags and missing values are errors that point at --help", () => {
    expect(() => parseOptions("run", def, ["--nope", "img"], rep)).toThrow("unknown flag '--nope' for 'mycfs run'; see 'mycfs run --help'");
    expect(() => parseOptions("run", def, ["-e"], rep)).toThrow("flag '-e' needs a value");
    expect(() => parseOptions("run", def, ["--init=yes"], rep)).toThrow("takes no value");
  });
});

describe("volumes, tmpfs, env", () => {
  const dir = tempDir("options");
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  test("-v HOST:CONTAINER[:ro]", () => {
    expect(parseVolume(`${dir}:/data:ro`)).toEqual({ host: dir, container: "/data", readOnly: true, isDir: true });
    expect(parseVolume(`${dir}/:/data/x/../y/`)).toMatchObject({ container: "/data/y", readOnly: false });
    expect(() => parseVolume(`${dir}/missing:/data`)).toThrow(`host path ${dir}/missing does not exist; create it first`);
    expect(() => parseVolume(`${dir}:data`)).toThrow("must be an absolute path inside the container");
    expect(() => parseVolume(`${dir}:/data:rx`)).toThrow("unknown mode 'rx'");
    expect(() => parseVolume("name:/data")).toThrow("named volumes are not supported");
    expect(() => parseVolume(`${dir}:/`)).toThrow("cannot mount over the container's root");
    expect(() => parseVolume(dir)).toThrow("expected HOST:CONTAINER[:ro]");
  });

  test("--tmpfs PATH[:opts] defaults to noexec,nosuid,nodev like docker", () => {
    expect(parseTmpfs("/run")).toEqual({ path: "/run", options: ["nosuid", "nodev", "noexec"] });
    expect(parseTmpfs("/run:exec,size=64m,mode=755,ro")).toEqual({ path: "/run", options: ["ro", "nosuid", "nodev", "size=64m", "mode=755"] });
    expect(() => parseTmpfs("/run:bogus")).toThrow("unknown option 'bogus'");
    expect(() => parseTmpfs("/run:constructor")).toThrow("unknown option 'constructor'");
    expect(() => parseTmpfs("/run:size")).toThrow(
      "unknown option 'size' (known: ro, rw, nosuid, suid, nodev, dev, noexec, exec, size=, nr_blocks=, nr_inodes=, mode=, uid=, gid=)",
    );
    expect(() => parseTmpfs("run")).toThrow("absolute path");
    expect(() => parseTmpfs("/:size=1m")).toThrow("--tmpfs /:size=1m: cannot mount over the container's root");
  });

  test("--tmpfs option values are checked before anything is made", () => {
    const good = "size=64m,size=1G,size=4096,size=50%,nr_inodes=1k,nr_blocks=100,mode=1777,mode=0700,uid=1000,gid=0";
    expect(parseTmpfs(`/t:${good}`).options.slice(3).join(",")).toBe(good);
    for (const [opt, expected] of [
      ["size=abc", "bytes with an optional k, m or g suffix, or a percentage of memory (64m, 50%)"],
      ["size=", "bytes with an optional k, m or g suffix"],
      ["size=64q", "bytes"],
      ["size=-1", "bytes"],
      ["size=5.5m", "bytes"],
      ["nr_inodes=x", "a number with an optional k, m or g suffix (1k)"],
      ["nr_blocks=10%", "a number"],
      ["mode=rwx", "an octal mode (1777)"],
      ["mode=789", "an octal mode"],
      ["mode=17777", "an octal mode"],
      ["uid=root", "a numeric user id (1000)"],
      ["uid=4294967295", "a numeric user id"],
      ["gid=-1", "a numeric group id (1000)"],
    ])
      expect(() => parseTmpfs(`/t:${opt}`)).toThrow(`--tmpfs /t:${opt}: ${opt}: expected ${expected}`);
  });

  test("no volume or tmpfs on the container's kernel file systems (/proc: runc's CVE-2019-19921), nor on /dev itself", () => {
    for (const target of [
      "/proc",
      "/proc/sys",
      "/proc/self/attr",
      "/sys",
      "/sys/fs/cgroup",
      "/dev",
      "/dev/pts",
      "/dev/pts/ptmx",
      "/dev/ptmx",
      "/dev/fd",
      "/dev/stdout",
    ]) {
      expect(() => parseVolume(`${dir}:${target}`)).toThrow(new RegExp(`^-v ${dir}:${target}: a mount on ${target} would hide or reach into the container's `));
      expect(() => parseTmpfs(`${target}:size=1m`)).toThrow(`--tmpfs ${target}:size=1m: a mount on ${target} would hide or reach into`);
    }
    expect(() => parseVolume(`${dir}:/proc/../sys/./kernel`)).toThrow(
      "a mount on /sys/kernel would hide or reach into the container's /sys and its cgroups; choose another path",
    );
    // below /dev a mount hides only what it lands on, as docker's -v /dev/shm:/dev/shm
    for (const target of ["/dev/shm", "/dev/mqueue", "/dev/foo", "/devices", "/process", "/system"])
      expect(parseVolume(`${dir}:${target}`).container).toBe(target);
    expect(parseTmpfs("/dev/shm:size=1g").path).toBe("/dev/shm");
  });

  test("a clean default environment, the image's over it, then --env-file, then -e", async () => {
    const file = join(dir, "env");
    writeFileSync(file, "# comment\n\nA=from-file\nB=file\n");
    const user = userEnv(["B=cli", "C=x=y"], [await readEnvFile(file)]);
    expect(buildEnv({ hostname: "h", term: "dumb", image: [], user })).toEqual([
      `PATH=${DEFAULT_PATH}`,
      "TERM=dumb",
      "HOSTNAME=h",
      "A=from-file",
      "B=cli",
      "C=x=y",
    ]);
    const image = ["PATH=/app/bin", "A=image", "LANG=C.UTF-8", "HOSTNAME=fixed"];
    expect(buildEnv({ hostname: "h", term: "dumb", image, user })).toEqual([
      "PATH=/app/bin",
      "TERM=dumb",
      "HOSTNAME=fixed",
      "A=from-file",
      "LANG=C.UTF-8",
      "B=cli",
      "C=x=y",
    ]);
    expect(() => buildEnv({ hostname: "h", term: "t", image: ["NOEQUALS"], user: [] })).toThrow("the image's Env NOEQUALS: expected KEY=VALUE");
    expect(() => userEnv(["NOEQUALS"], [])).toThrow("-e NOEQUALS: expected KEY=VALUE");
    expect(() => userEnv(["=v"], [])).toThrow("expected KEY=VALUE");
    const broken = { name: "f.env", text: "OK=1\nBROKEN\n" };
    expect(() => userEnv([], [broken])).toThrow("--env-file f.env, line 2: expected KEY=VALUE");
    await expect(readEnvFile(join(dir, "none"))).rejects.toThrow("cannot read it (ENOENT)");
  });

  test("inRoot: a path through a root file system's symlinks, as openat2(RESOLVE_IN_ROOT) takes it", () => {
    const root = join(dir, "root");
    mkdirSync(join(root, "etc/sub"), { recursive: true });
    symlinkSync("/proc", join(root, "abs"));
    symlinkSync("../../../../../../proc", join(root, "etc/climb"));
    symlinkSync("sub", join(root, "etc/rel"));
    symlinkSync("loop", join(root, "loop"));
    expect(inRoot(root, "/abs/self")).toBe("/proc/self");
    expect(inRoot(root, "/etc/climb/./sys")).toBe("/proc/sys");
    expect(inRoot(root, "/etc/rel/x")).toBe("/etc/sub/x");
    expect(inRoot(root, "/etc/../../etc/sub/../rel")).toBe("/etc/sub");
    expect(inRoot(root, "/missing/abs")).toBe("/missing/abs");
    expect(inRoot(root, "/loop/x")).toBe("/loop/x"); // past 40 links it stops following, as the kernel (ELOOP)
  });

  test("an empty command is refused with docker's exit code for a command not found", () => {
    const refusal = (() => {
      try {
        command([""], "mycfs run busybox sh");
      } catch (e) {
        return e;
      }
    })();
    expect(refusal).toBeInstanceOf(MycfsError);
    expect(refusal).toMatchObject({ message: 'the command is an empty string (""): name the program to run, e.g. mycfs run busybox sh', exitCode: 127 });
    expect(command(["sh", ""], "x")).toEqual(["sh", ""]);
  });

  test("hostnames and paths", () => {
    expect(validHostname("web-1.local")).toBe("web-1.local");
    expect(() => validHostname("-bad")).toThrow("--hostname -bad");
    expect(() => validHostname("a".repeat(64))).toThrow();
    expect(containerPath("/a//b/", "-w")).toBe("/a/b");
  });
});

describe("exit codes", () => {
  test("a wait status becomes the code, or 128+N for signal N", () => {
    expect(exitCode(0)).toBe(0);
    expect(exitCode(3 << 8)).toBe(3);
    expect(exitCode(9)).toBe(137);
    expect(exitCode(15 | 0x80)).toBe(143); // core dumped
  });

  test("a failed exec maps to 127/126, any other step to 125 with its words", () => {
    const plan = [mount({ target: "/x", what: "mount x" }), exec({ argv: ["foo"], env: [], path: "/bin", init: false, ctty: false })];
    expect(failureError(plan, { step: 1, errno: 2 })).toMatchObject({ exitCode: 127, message: "foo: executable file not found in $PATH inside the container" });
    expect(failureError(plan, { step: 1, errno: 13 })).toMatchObject({ exitCode: 126 });
    expect(failureError(plan, { step: 1, errno: 8 })).toMatchObject({ exitCode: 126 });
    expect(failureError(plan, { step: 0, errno: 2 })).toMatchObject({ exitCode: 125, message: "step 1, mount x: No such file or directory (ENOENT)" });
  });
});
