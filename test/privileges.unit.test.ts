// Capabilities, rlimits and --security-opt parsing, without root.
import { describe, expect, test } from "bun:test";
import { capMask, capsFromMask, DEFAULT_CAPS, resolveCaps } from "../src/container/caps";
import { defaultUlimits, parseUlimit, resolveUlimits } from "../src/container/rlimits";
import { parseSecurityOpts, resolvePrivileges } from "../src/container/security";

describe("capabilities", () => {
  test("docker's default set is the well-known mask", () => {
    expect(DEFAULT_CAPS).toHaveLength(14);
    expect(capMask(resolveCaps([], [], false)).toString(16)).toBe("a80425fb");
  });

  test("--cap-add, --cap-drop, ALL, and names with or without CAP_", () => {
    expect([...resolveCaps(["cap_sys_admin"], ["NET_RAW", "mknod"], false)]).toContain("SYS_ADMIN");
    expect(resolveCaps([], ["NET_RAW", "mknod"], false).has("NET_RAW")).toBe(false);
    expect([...resolveCaps(["NET_BIND_SERVICE"], ["ALL"], false)]).toEqual(["NET_BIND_SERVICE"]);
    expect(resolveCaps(["ALL"], ["SYS_ADMIN"], false).size).toBe(40);
    expect(resolveCaps([], ["ALL"], true).size).toBe(41);
    expect(() => resolveCaps(["FLY"], [], false)).toThrow("--cap-add FLY: unknown capability");
  });
});

describe("rlimits", () => {
  test("NAME=SOFT[:HARD], unlimited, and clear refusals", () => {
    expect(parseUlimit("nofile=1024:2048")).toEqual({ name: "nofile", resource: 7, soft: 1024, hard: 2048 });
    expect(parseUlimit("core=0")).toEqual({ name: "core", resource: 4, soft: 0, hard: 0 });
    expect(parseUlimit("memlock=unlimited:-1")).toMatchObject({ soft: -1, hard: -1 });
    expect(() => parseUlimit("nofile")).toThrow("expected NAME=SOFT[:HARD]");
    expect(() => parseUlimit("files=1")).toThrow("unknown limit 'files'");
    expect(() => parseUlimit("nofile=2048:1024")).toThrow("soft limit is above the hard one");
    expect(() => parseUlimit("nofile=x")).toThrow("'x' is not a number");
  });

  test("the nofile default never asks for more than mycfs has", () => {
    expect(defaultUlimits(-1)).toEqual(["nofile=1024:524288"]);
    expect(defaultUlimits(20000)).toEqual(["nofile=1024:20000"]);
    expect(defaultUlimits(512)).toEqual(["nofile=512:512"]);
    expect(resolveUlimits(["nofile=10:20", "core=0"], defaultUlimits(-1)).map((l) => `${l.name}=${l.soft}:${l.hard}`)).toEqual(["nofile=10:20", "core=0:0"]);
  });
});

describe("--security-opt and --privileged", () => {
  test("no-new-privileges and seccomp options", () => {
    expect(parseSecurityOpts([])).toEqual({ noNewPrivs: true, seccomp: "default" });
    expect(parseSecurityOpts(["no-new-privileges=false", "seccomp=unconfined"])).toEqual({ noNewPrivs: false, seccomp: "unconfined" });
    expect(parseSecurityOpts(["no-new-privileges:true", "seccomp=/p.json"])).toEqual({ noNewPrivs: true, seccomp: "/p.json" });
    expect(() => parseSecurityOpts(["apparmor=x"])).toThrow("--security-opt apparmor=x: expected");
  });

  test("--privileged keeps every capability and drops seccomp and masking", () => {
    const all = capsFromMask("1ffffffffff");
    const p = resolvePrivileges({ capAdd: [], capDrop: [], privileged: true, securityOpts: [] }, all);
    expect(p).toMatchObject({ seccomp: "unconfined", maskPaths: false });
    expect(p.caps.size).toBe(41);
    // what mycfs itself lacks (a sandbox without CAP_SYS_RESOURCE) is left out
    expect(resolvePrivileges({ capAdd: [], capDrop: [], privileged: true, securityOpts: [] }, capsFromMask("1fffeffffff")).caps.has("SYS_RESOURCE")).toBe(
      false,
    );
  });
});
