// Address checks for --add-host and --dns (node:net's isIP would load a module for one regex).
const OCTET = "(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)";
const V4 = new RegExp(`^${OCTET}(\\.${OCTET}){3}$`);

/** An IPv4 address in dotted decimal, or an IPv6 address (as URL hosts parse them). */
export function isIP(s: string): boolean {
  if (V4.test(s)) return true;
  if (!/^[0-9A-Fa-f:.]+$/.test(s) || !s.includes(":")) return false;
  return URL.canParse(`http://[${s}]/`);
}
