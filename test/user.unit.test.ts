// -u and --group-add resolved as docker resolves them, and an image's config under run's
// flags: pure functions, no root needed.
import { describe, expect, test } from "bun:test";
import { applyConfig } from "../src/container/image-config";
import { checkMapped, checkOneId, resolveUser } from "../src/container/user";

const accounts = {
  passwd: [
    "root:x:0:0:root:/root:/bin/sh",
    "# a comment",
    "app:x:1000:1000:App:/home/app:/bin/sh",
    "nohome:x:1001:1001::",
    "broken:x:notanumber:1",
    "nobody:x:65534:65534:nobody:/nonexistent:/bin/false",
  ].join("\n"),
  group: ["root:x:0:", "wheel:x:10:root,app", "app:x:1000:", "staff:x:50:app", "audio:x:29:", "nogroup:x:65534:"].join("\n"),
  whose: "the image's",
};
const none = { passwd: null, group: null, whose: "the image's" };

describe("resolveUser", () => {
  test("a name: its ids and home from passwd, the groups that list it, --group-add's", () => {
    expect(resolveUser("app", [], accounts, "-u app")).toEqual({ uid: 1000, gid: 1000, additionalGids: [1000, 10, 50], home: "/home/app" });
    expect(resolveUser("app", ["audio", "7", "staff"], accounts, "-u app").additionalGids).toEqual([1000, 10, 50, 29, 7]);
    expect(resolveUser("", [], accounts, "the image's User")).toEqual({ uid: 0, gid: 0, additionalGids: [0, 10], home: "/root" });
    expect(resolveUser("nobody", [], accounts, "-u nobody")).toEqual({ uid: 65534, gid: 65534, additionalGids: [65534], home: "/nonexistent" });
  });

  test("a uid: its passwd entry if there is one; without one gid 0 and home /, as docker", () => {
    expect(resolveUser("1000", [], accounts, "-u 1000")).toMatchObject({ uid: 1000, gid: 1000, additionalGids: [1000, 10, 50] });
    expect(resolveUser("4242", [], accounts, "-u 4242")).toEqual({ uid: 4242, gid: 0, additionalGids: [0], home: "/" });
    expect(resolveUser("1001", [], accounts, "-u 1001").home).toBe("/");
    expect(resolveUser("0", [], none, "-u 0")).toEqual({ uid: 0, gid: 0, additionalGids: [0], home: "/" });
  });

  test("an explicit group sets the gid, and the listed groups are not added (runc's rule)", () => {
    expect(resolveUser("app:staff", [], accounts, "-u app:staff")).toEqual({ uid: 1000, gid: 50, additionalGids: [50], home: "/home/app" });
    expect(resolveUser("1000:1000", [], accounts, "-u 1000:1000").additionalGids).toEqual([1000]);
    expect(resolveUser("4242:777", ["audio"], accounts, "-u 4242:777")).toEqual({ uid: 4242, gid: 777, additionalGids: [777, 29], home: "/" });
    expect(resolveUser(":50", [], accounts, "-u :50")).toMatchObject({ uid: 0, gid: 50 });
  });

  test("an unknown name is one line naming it and the file; numbers out of range are refused", () => {
    expect(() => resolveUser("bob", [], accounts, "-u bob")).toThrow("-u bob: no user bob in the image's /etc/passwd; give a user it lists, or a numeric uid");
    expect(() => resolveUser("bob", [], none, "-u bob")).toThrow("no user bob in the image's /etc/passwd");
    expect(() => resolveUser("app:ops", [], accounts, "-u app:ops")).toThrow("-u app:ops: no group ops in the image's /etc/group");
    expect(() => resolveUser("app", ["ops"], accounts, "-u app")).toThrow("--group-add ops: no group ops in the image's /etc/group");
    expect(() => resolveUser("broken", [], accounts, "-u broken")).toThrow("no user broken");
    expect(() => resolveUser("4294967296", [], accounts, "-u 4294967296")).toThrow("-u 4294967296: 4294967296 is out of range");
  });
});

describe("checkMapped, checkOneId", () => {
  const maps = [{ containerID: 0, hostID: 100000, size: 65536 }];
  test("every id must be mapped; a namespace of one id holds root alone", () => {
    checkMapped({ uid: 1000, gid: 1000, additionalGids: [1000, 10], home: "/" }, maps, maps, "-u app");
    expect(() => checkMapped({ uid: 70000, gid: 0, additionalGids: [0, 70001], home: "/" }, maps, maps, "-u 70000")).toThrow(
      "-u 70000: uid 70000, gid 70001 not mapped in the container's user namespace",
    );
    const root = { uid: 0, gid: 0, additionalGids: [0, 10], home: "/root" };
    checkOneId(root, [], "the image's User"); // the listed groups are left as they are
    expect(() => checkOneId(root, ["10"], "-u root")).toThrow("--group-add 10: without root");
    expect(() => checkOneId({ ...root, uid: 1000 }, [], "-u 1000")).toThrow("-u 1000: without root");
    expect(() => checkOneId({ ...root, gid: 5 }, [], "-u 0:5")).toThrow("holds one id, root's");
  });
});

describe("applyConfig", () => {
  const config = { Entrypoint: ["/entry.sh"], Cmd: ["serve", "--port", "80"], WorkingDir: "/app", User: "app", StopSignal: "SIGQUIT" };

  test('Entrypoint + Cmd; a command on the line replaces Cmd; --entrypoint drops Cmd, "" clears it', () => {
    expect(applyConfig(config, "web", { cmd: [] }).argv).toEqual(["/entry.sh", "serve", "--port", "80"]);
    expect(applyConfig(config, "web", { cmd: ["sh"] }).argv).toEqual(["/entry.sh", "sh"]);
    expect(applyConfig(config, "web", { cmd: [], entrypoint: "/bin/echo" }).argv).toEqual(["/bin/echo"]);
    expect(applyConfig(config, "web", { cmd: ["hi"], entrypoint: "/bin/echo" }).argv).toEqual(["/bin/echo", "hi"]);
    expect(applyConfig(config, "web", { cmd: ["id"], entrypoint: "" }).argv).toEqual(["id"]);
    expect(() => applyConfig(config, "web", { cmd: [], entrypoint: "" })).toThrow('web: no command to run (--entrypoint "" cleared its Entrypoint)');
    expect(applyConfig({ Cmd: ["sh"] }, "web", { cmd: [] }).argv).toEqual(["sh"]);
  });

  test("an image without a config runs a shell; one with a config but no command is refused", () => {
    expect(applyConfig({}, "busybox", { cmd: [] }).argv).toEqual(["/bin/sh"]);
    expect(() => applyConfig({ Env: ["A=1"] }, "app:1", { cmd: [] })).toThrow(
      "app:1: no command to run (its config sets no Entrypoint and no Cmd); give one after the image: mycfs run app:1 CMD",
    );
    expect(() => applyConfig({}, "busybox", { cmd: [""] })).toThrow('the command is an empty string ("")');
  });

  test("working directory, user and stop signal: the flag's, else the image's, else docker's defaults", () => {
    expect(applyConfig(config, "web", { cmd: [] })).toMatchObject({ cwd: "/app", user: { spec: "app" }, stopSignal: 3 });
    expect(applyConfig(config, "web", { cmd: [], workdir: "/tmp", user: "0", stopSignal: 1 })).toMatchObject({
      cwd: "/tmp",
      user: { spec: "0", what: "-u 0" },
      stopSignal: 1,
    });
    expect(applyConfig({}, "busybox", { cmd: [] })).toMatchObject({ cwd: "/", user: { spec: "" }, stopSignal: 15 });
    expect(() => applyConfig({ WorkingDir: "rel" }, "web", { cmd: ["sh"] })).toThrow("web: the image's WorkingDir 'rel' must be an absolute path");
    expect(() => applyConfig({ StopSignal: "SIGNOPE" }, "web", { cmd: ["sh"] })).toThrow("web: the image's StopSignal: unknown signal 'SIGNOPE'");
  });
});
