// Parsing what the user typed: pure functions, no root needed.
import { afterAll, describe, expect, test } from "bun:test";
import { rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseOptions } from "../src/cli/argv";
import { buildEnv, containerPath, DEFAULT_PATH, parseTmpfs, parseVolume, readEnvFile, validHostname } from "../src/container/options";
import { exitCode, failureError } from "../src/container/run";
import { MS, exec, mount } from "../src/plan/ops";
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
    expect(parseTmpfs("/run")).toEqual({ path: "/run", flags: MS.NOSUID | MS.NODEV | MS.NOEXEC, data: "" });
    expect(parseTmpfs("/run:exec,size=64m,mode=755,ro")).toEqual({ path: "/run", flags: MS.NOSUID | MS.NODEV | MS.RDONLY, data: "size=64m,mode=755" });
    expect(() => parseTmpfs("/run:bogus")).toThrow("unknown option 'bogus'");
    expect(() => parseTmpfs("run")).toThrow("absolute path");
  });

  test("a clean default environment, then --env-file, then -e", async () => {
    const file = join(dir, "env");
    writeFileSync(file, "# comment\n\nA=from-file\nB=file\n");
    const env = buildEnv({ hostname: "h", term: "dumb", env: ["B=cli", "C=x=y"], envFiles: [await readEnvFile(file)] });
    expect(env).toEqual([`PATH=${DEFAULT_PATH}`, "HOME=/root", "TERM=dumb", "HOSTNAME=h", "A=from-file", "B=cli", "C=x=y"]);
    expect(() => buildEnv({ hostname: "h", term: "t", env: ["NOEQUALS"], envFiles: [] })).toThrow("-e NOEQUALS: expected KEY=VALUE");
    expect(() => buildEnv({ hostname: "h", term: "t", env: ["=v"], envFiles: [] })).toThrow("expected KEY=VALUE");
    const broken = { name: "f.env", text: "OK=1\nBROKEN\n" };
    expect(() => buildEnv({ hostname: "h", term: "t", env: [], envFiles: [broken] })).toThrow("--env-file f.env, line 2: expected KEY=VALUE");
    await expect(readEnvFile(join(dir, "none"))).rejects.toThrow("cannot read it (ENOENT)");
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
