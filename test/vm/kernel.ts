// Fetches the VM tests' kernels (amd64, arm64), the arm64 VM's zlib and the release
// test's qemu-aarch64 before the suite runs: `npm test` runs the suite in a network namespace of its own (so that containers on
// the default bridge make it there), where apt-get cannot reach Debian's mirrors.
import { qemuAarch64 } from "../release/qemu-user";
import { debianKernel, vmLibraries } from "./image";

for (const arch of ["x64", "arm64"] as const) {
  const kernel = await debianKernel(arch);
  await vmLibraries(arch);
  console.error(`vm: ${arch} kernel ${kernel.version}`);
}
await qemuAarch64();
