// Host steps: libmycfs's thread walks them in order and stops at the first failure, which
// comes back as the step and its errno.
import { afterAll, describe, expect, test } from "bun:test";
import { closeSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { HostStepFailed, HostSteps } from "../src/container/host-steps";
import { CLONE, networkNamespaceSteps } from "../src/container/namespaces";
import { keepFd, unshare } from "../src/plan/ops";
import { tempDir } from "./helpers";

const dir = tempDir("host-steps");
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const ownNet = () => readlinkSync("/proc/self/ns/net");

describe("host steps", () => {
  test("a kept fd comes back; discarding closes it", () => {
    const path = join(dir, "kept");
    writeFileSync(path, "kept");
    const fd = HostSteps.start([keepFd(path, "keep it")]).wait();
    expect(readlinkSync(`/proc/self/fd/${fd}`)).toBe(path);
    closeSync(fd);
    const discarded = HostSteps.start([keepFd(path, "keep it")]);
    discarded.discard();
    discarded.discard(); // once is enough
  });

  test("the first failure stops the walk and names its step and errno (root)", () => {
    const before = ownNet();
    const steps = HostSteps.start([unshare(CLONE.NEWNET, "a namespace of the thread's"), keepFd(join(dir, "missing"), "keep a missing file")]);
    try {
      steps.wait();
      throw new Error("no failure");
    } catch (e) {
      expect(e).toBeInstanceOf(HostStepFailed);
      expect((e as HostStepFailed).step.what).toBe("keep a missing file");
      expect((e as HostStepFailed).errno).toBe(2);
      expect((e as Error).message).toMatch(/^keep a missing file: .*ENOENT/);
    }
    expect(ownNet()).toBe(before); // the thread's unshare moved only the thread
  });

  test("a network namespace made ahead on the thread, not mycfs's own (root)", () => {
    const fd = HostSteps.start(networkNamespaceSteps()).wait();
    try {
      expect(readlinkSync(`/proc/self/fd/${fd}`)).toMatch(/^net:\[\d+\]$/);
      expect(readlinkSync(`/proc/self/fd/${fd}`)).not.toBe(ownNet());
    } finally {
      closeSync(fd);
    }
  });
});
