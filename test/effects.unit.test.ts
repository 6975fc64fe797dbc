// The host effects around a container: made in order, undone in reverse, an undo's failure
// a warning that stops no other undo.
import { expect, test } from "bun:test";
import { HostEffects } from "../src/container/effects";

test("effects are undone last first; one that failed to be made is not undone; a failing undo stops no other", () => {
  const log: string[] = [];
  const effects = new HostEffects();
  effects.make(
    "record",
    () => log.push("make record"),
    () => log.push("undo record"),
  );
  effects.made("root", () => log.push("undo root"));
  expect(() =>
    effects.make(
      "cgroup",
      () => {
        throw new Error("EROFS");
      },
      () => log.push("undo cgroup"),
    ),
  ).toThrow("EROFS");
  effects.make(
    "layers",
    () => log.push("make layers"),
    () => {
      throw new Error("busy");
    },
  );
  effects.undoAll();
  expect(log).toEqual(["make record", "make layers", "undo root", "undo record"]);
  effects.undoAll(); // once only
  expect(log).toHaveLength(4);
});
