// An OCI linux.seccomp, converted, run in a real container. `mycfs run` takes a Docker JSON
// profile (--security-opt seccomp=FILE), so the converted profile goes in as one, and the
// test checks first that what the container gets is byte for byte ociSeccompFilter's program.
import { afterAll, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { DEFAULT_CAPS } from "../src/container/caps";
import { ociSeccompFilter, ociSeccompProfile } from "../src/oci/seccomp";
import { compileFor } from "../src/seccomp/filter";
import { mycfs, testStore } from "./helpers";

const store = testStore("oci-seccomp");
afterAll(store.cleanup);

const EPERM = 1;
const EACCES = 13;

test("an OCI profile denying mkdir with EPERM (and chmod with errnoRet EACCES on one mode) holds in a container", async () => {
  const oci = {
    defaultAction: "SCMP_ACT_ALLOW",
    architectures: ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32", "SCMP_ARCH_AARCH64"],
    flags: ["SECCOMP_FILTER_FLAG_TSYNC"],
    syscalls: [
      { names: ["mkdir", "mkdirat", "no_such_syscall"], action: "SCMP_ACT_ERRNO", errnoRet: EPERM },
      { names: ["chmod", "fchmodat", "fchmodat2"], action: "SCMP_ACT_ERRNO", errnoRet: EACCES, args: [{ index: 1, value: 0o777, op: "SCMP_CMP_EQ" }] },
      { names: ["chmod", "fchmodat", "fchmodat2"], action: "SCMP_ACT_ERRNO", errnoRet: EACCES, args: [{ index: 2, value: 0o777, op: "SCMP_CMP_EQ" }] },
    ],
  };
  // the same profile as Docker JSON: no flags (TSYNC means nothing to a one-thread child)
  const { architectures: _, ...docker } = ociSeccompProfile(oci);
  const file = join(store.dir, "oci.json");
  writeFileSync(
    file,
    JSON.stringify(docker, (_k, v) => (typeof v === "bigint" ? Number(v) : v)),
  );
  expect(await compileFor(file, DEFAULT_CAPS)).toEqual(ociSeccompFilter(oci)!);

  const script = "touch /tmp/f; chmod 644 /tmp/f && echo chmod-644-ok; chmod 777 /tmp/f 2>&1; mkdir /tmp/d 2>&1; grep Seccomp: /proc/self/status";
  const r = await mycfs(["run", "--rm", "--root", store.root, "--network", "none", "--security-opt", `seccomp=${file}`, "busybox", "sh", "-c", script]);
  expect(r.stderr).toBe("");
  expect(r.stdout).toBe(
    ["chmod-644-ok", "chmod: /tmp/f: Permission denied", "mkdir: can't create directory '/tmp/d': Operation not permitted", "Seccomp:\t2", ""].join("\n"),
  );
});
