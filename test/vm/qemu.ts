// One boot of the test VM: QEMU with TCG (no KVM here) and `-cpu max` (QEMU's default x86
// CPU model lacks SSE4.2, without which Bun dies of an illegal instruction), the serial
// port as its only console, read line by line. arm64: the `virt` machine, its PL011 UART.
// The VM is killed by its pid however the boot ends: powered off, timed out, or the test
// gave up.
export interface Boot {
  /** The serial console's lines. */
  lines: string[];
  /** Powered off by itself before the timeout. */
  poweredOff: boolean;
  /** Wall time from QEMU's start to its end, in seconds. */
  wall: number;
}

export async function boot(o: { kernel: string; initrd: string; append: string; timeoutMs: number; memoryMb?: number; arch?: "x64" | "arm64" }): Promise<Boot> {
  const t0 = performance.now();
  const arm = o.arch === "arm64";
  const system = arm ? "qemu-system-aarch64" : "qemu-system-x86_64";
  const qemu = Bun.spawn(
    [
      system,
      ...(arm ? ["-machine", "virt"] : []),
      "-accel",
      "tcg",
      "-cpu",
      "max",
      "-smp",
      "2",
      "-m",
      String(o.memoryMb ?? 1024),
      "-nodefaults",
      "-no-user-config",
      "-display",
      "none",
      "-serial",
      "stdio",
      "-no-reboot",
      "-kernel",
      o.kernel,
      "-initrd",
      o.initrd,
      "-append",
      `console=${arm ? "ttyAMA0" : "ttyS0"} quiet loglevel=1 panic=-1 ${o.append}`,
    ],
    { stdin: "ignore", stdout: "pipe", stderr: "pipe" },
  );
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    qemu.kill("SIGKILL");
  }, o.timeoutMs);
  try {
    const [out, err, code] = await Promise.all([new Response(qemu.stdout).text(), new Response(qemu.stderr).text(), qemu.exited]);
    if (code !== 0 && !timedOut) throw new Error(`${system} exited ${code}: ${err}`);
    return { lines: out.replace(/\r/g, "").split("\n"), poweredOff: !timedOut, wall: (performance.now() - t0) / 1000 };
  } finally {
    clearTimeout(timer);
    qemu.kill("SIGKILL"); // (already gone unless the test itself failed first)
  }
}
