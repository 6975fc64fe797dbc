// io_uring from inside a container. Its operations run in the kernel without passing
// through seccomp, and it has been a steady source of kernel exploits, so Docker's default
// profile stopped allowing io_uring_setup, _enter and _register (moby PR #46762, Docker 25);
// mycfs's default filter, compiled at build time, refuses them too.
import { afterAll, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import { DEFAULT_CAPS } from "../../src/container/caps";
import { compileFor } from "../../src/seccomp/filter";
import { probe, testStore } from "../helpers";

const store = testStore("io-uring");
afterAll(store.cleanup);
const EPERM = 1;

test("the filter built into mycfs is the default profile's, compiled afresh", async () => {
  const built = JSON.parse(readFileSync("build/seccomp-default.json", "utf8")).bpf;
  expect(built).toBe((await compileFor("default", DEFAULT_CAPS)).toBase64());
});

test("io_uring_setup in a default container: EPERM; unconfined, the kernel answers", async () => {
  expect(await probe(store.root, [], ["uring"])).toEqual({ io_uring_setup: EPERM });
  // the host may disable io_uring itself (kernel.io_uring_disabled: 1 for all but
  // CAP_SYS_ADMIN, 2 for everyone); where it does not, the call gets past the filter
  const disabled = (() => {
    try {
      return readFileSync("/proc/sys/kernel/io_uring_disabled", "utf8").trim() !== "0";
    } catch {
      return false; // a kernel without the setting
    }
  })();
  const unconfined = await probe(store.root, ["--security-opt", "seccomp=unconfined"], ["uring"]);
  if (disabled) expect(unconfined.io_uring_setup).toBe(EPERM);
  else expect(unconfined.io_uring_setup).not.toBe(EPERM); // 0 (a ring) or ENOSYS (no io_uring)
});
