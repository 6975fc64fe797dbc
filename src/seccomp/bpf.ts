// A classic-BPF program, written back to front. Jumps only go forward, so when an
// instruction is added everything it jumps to is already placed and the distance is
// known. jt/jf are 8 bits: a target farther away gets a stand-in next to the jump, a copy
// when it is a RET (same size, one instruction less to run), else a JA, whose offset is 32 bits.

/** The opcodes a seccomp filter needs (linux/bpf_common.h). */
export const BPF = {
  LD_ABS: 0x20, // BPF_LD | BPF_W | BPF_ABS: A = 32 bits of seccomp_data at k
  AND: 0x54, // BPF_ALU | BPF_AND | BPF_K
  JA: 0x05, // BPF_JMP | BPF_JA
  JEQ: 0x15, // BPF_JMP | BPF_JEQ | BPF_K, and so on
  JGT: 0x25,
  JGE: 0x35,
  JSET: 0x45,
  RET: 0x06, // BPF_RET | BPF_K
} as const;

const MAX_JT = 255;

interface Insn {
  code: number;
  jt: number;
  jf: number;
  k: number;
}

/** An instruction already placed, by its index counted from the end of the program. */
export type Label = number;

export class Program {
  private readonly rev: Insn[] = [];
  private readonly rets = new Map<number, Label>();

  get length(): number {
    return this.rev.length;
  }

  /** RET k, shared by everything that returns k. */
  ret(k: number): Label {
    return this.rets.get(k) ?? this.newRet(k);
  }

  /** A load or ALU instruction, which goes on to `next`. */
  stmt(code: number, k: number, next: Label): Label {
    if (next !== this.rev.length - 1) this.standIn(next);
    return this.push(code, k);
  }

  /** A conditional jump to `jt` if it holds, else to `jf`. */
  jump(code: number, k: number, jt: Label, jf: Label): Label {
    if (jt === jf) return jt;
    for (;;) {
      if (this.offset(jf) > MAX_JT) jf = this.standIn(jf);
      else if (this.offset(jt) > MAX_JT) jt = this.standIn(jt);
      else return this.push(code, k, this.offset(jt), this.offset(jf));
    }
  }

  /** struct sock_filter[], little endian, for struct sock_fprog. */
  bytes(): Uint8Array {
    const out = new Uint8Array(this.rev.length * 8);
    const view = new DataView(out.buffer);
    this.rev.toReversed().forEach((insn, i) => {
      view.setUint16(i * 8, insn.code, true);
      view.setUint8(i * 8 + 2, insn.jt);
      view.setUint8(i * 8 + 3, insn.jf);
      view.setUint32(i * 8 + 4, insn.k, true);
    });
    return out;
  }

  /** The offset that a jump placed now needs to reach `to`. */
  private offset(to: Label): number {
    return this.rev.length - 1 - to;
  }

  private standIn(to: Label): Label {
    const target = this.rev[to]!;
    return target.code === BPF.RET ? this.newRet(target.k) : this.push(BPF.JA, this.offset(to));
  }

  private newRet(k: number): Label {
    const label = this.push(BPF.RET, k);
    this.rets.set(k, label);
    return label;
  }

  private push(code: number, k: number, jt = 0, jf = 0): Label {
    this.rev.push({ code, jt, jf, k });
    return this.rev.length - 1;
  }
}
