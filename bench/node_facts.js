// bench/run.sh's facts + ID peer: what Butler 5.x does with systeminformation to get
// its facts and instance ID: osInfo, system, networkInterfaces, networkInterfaceDefault,
// then hex(HMAC-SHA256(key = MAC, message = MAC + IPv4 + host + DMI UUID)).
//   node node_facts.js [HOST]      prints the ID
'use strict';
const crypto = require('crypto');
const si = require('systeminformation');

async function main() {
  const host = process.argv[2] || '';
  const os = await si.osInfo();
  const sys = await si.system();
  const ifaces = await si.networkInterfaces();
  const def = await si.networkInterfaceDefault();
  const iface = ifaces.filter((i) => i.iface === def)[0] || {};
  const src = iface.mac + iface.ip4 + host + sys.uuid;
  const h = crypto.createHmac('sha256', iface.mac || '');
  h.update(src);
  process.stdout.write(h.digest('hex') + '\n');
  if (process.env.BENCH_VERBOSE) console.error(os.distro, os.release, os.codename, def, iface.mac);
}
main().then(() => process.exit(0), (e) => { console.error(e); process.exit(1); });
