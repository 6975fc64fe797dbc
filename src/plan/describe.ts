// `mycfs run --dry-run`: the plan as the C child will read it, one step per line, with
// the words that explain it. Decoding goes through libmycfs, so what is shown is exactly
// what would run.
import { decodePlan } from "../native/lib";
import { OpCode } from "../native/protocol";
import { encodePlan } from "./encode";
import type { Step } from "./ops";

const names = new Map(Object.entries(OpCode).map(([name, code]) => [code as number, name]));

export function describePlan(plan: Step[]): string {
  return decodePlan(encodePlan(plan))
    .map((d, i) => {
      const args = [...d.strs.map((s) => JSON.stringify(s)), `flags=0x${d.flags.toString(16)}`, `a=0x${d.a.toString(16)}`, `b=${d.b}`, `c=${d.c}`].join(" ");
      return `${String(i + 1).padStart(3)}  ${(names.get(d.code) ?? "?").padEnd(10)}  ${plan[i]!.what}\n${" ".repeat(17)}${args}`;
    })
    .join("\n");
}
