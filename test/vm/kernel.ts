// Fetches the VM test's kernel before the suite runs: `npm test` runs the suite in a
// network namespace of its own (so that containers on the default bridge make it there),
// where apt-get cannot reach Debian's mirrors.
import { debianKernel } from "./image";

const kernel = await debianKernel();
console.error(`vm: kernel ${kernel.version} in build/vm`);
