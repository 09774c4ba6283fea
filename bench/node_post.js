// bench/run.sh's Node peer: POST a file's bytes over verified HTTPS with Node's https.
//   node node_post.js URL CAFILE BODYFILE      exit 0 on a 2xx
'use strict';
const fs = require('fs');
const https = require('https');
const [url, caFile, bodyFile] = process.argv.slice(2);
const body = fs.readFileSync(bodyFile);
const req = https.request(url, {
  method: 'POST',
  ca: fs.readFileSync(caFile),
  headers: { 'Content-Type': 'application/json', 'Content-Length': body.length },
  agent: false,
}, (res) => {
  res.resume();
  res.on('end', () => process.exit(res.statusCode >= 200 && res.statusCode < 300 ? 0 : 1));
});
req.on('error', (e) => { console.error(e.message); process.exit(1); });
req.end(body);
