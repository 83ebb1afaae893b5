// The least memory a sidecar written for Node.js can take: Node's built-ins only, doing what an idle
// sidecar does (watch its log file, hold a connection to the broker, answer HTTP for health and
// metrics). Given a file with lines, it first reads them all and encodes a JSON record of each into
// batch buffers with a CRC, as a sidecar that shipped them did, so its code has been compiled and
// optimised the way a working sidecar's has.
// Plain JavaScript: stripping types would load a compiler into the process being measured.
import { openSync, readSync, watch } from 'node:fs';
import { createRequire, enableCompileCache, flushCompileCache } from 'node:module';
import { connect } from 'node:net';
import { hostname } from 'node:os';
import { crc32 } from 'node:zlib';

// As Lookout loads it (core/http-server.ts): an ES import of node:http also loads Node's bundled fetch.
const { createServer } = process.getBuiltinModule('node:http');

const [file, broker, libraries] = process.argv.slice(2);
const [host, port] = broker.split(':');

// With --libraries, it also loads the libraries Lookout's sidecar runs on (its configuration's validator
// and YAML parser, its logger, and the parts of prom-client it uses, default metrics collected), and
// does nothing with them: what they take before any code of Lookout's.
if (libraries === '--libraries') {
  enableCompileCache();
  await Promise.all([import('zod'), import('yaml'), import('pino')]);
  const require = createRequire(import.meta.url);
  for (const metric of ['counter', 'gauge', 'histogram']) require(`prom-client/lib/${metric}`);
  const Registry = require('prom-client/lib/registry');
  require('prom-client/lib/defaultMetrics')({ register: new Registry() });
  // Lookout writes its cache when it stops; this script is killed.
  flushCompileCache();
  // An idle sidecar collects its garbage (core/idle-release.ts); loading leaves some.
  globalThis.gc?.();
}

const socket = connect(Number(port), host);
socket.on('error', (err) => {
  console.error(`broker: ${err.message}`);
  process.exit(1);
});
watch(file, () => {});

const CHUNK = 64 * 1024;
const BATCH = 1024 * 1024;
const chunk = Buffer.alloc(CHUNK);
const batch = Buffer.alloc(BATCH + CHUNK * 4);
let used = 0;
let records = 0;
let checksum = 0;

function ship(line, offset) {
  const space = line.indexOf(' ', 24);
  const record = {
    '@timestamp': line.slice(0, 23),
    message: line,
    log: { level: line.slice(space + 1, line.indexOf(' ', space + 1)), file: { path: file }, offset },
    kubernetes: { namespace: process.env.POD_NAMESPACE, pod: { name: process.env.POD_NAME } },
    host: { name: hostname() },
    event: { id: `${offset}` },
  };
  used += batch.write(`${JSON.stringify(record)}\n`, used);
  records++;
  if (used >= BATCH) {
    checksum = crc32(batch.subarray(0, used), checksum);
    used = 0;
  }
}

const fd = openSync(file, 'r');
let position = 0;
let offset = 0;
let rest = '';
for (;;) {
  const read = readSync(fd, chunk, 0, CHUNK, position);
  if (read === 0) break;
  position += read;
  const lines = (rest + chunk.toString('utf8', 0, read)).split('\n');
  rest = lines.pop();
  for (const line of lines) {
    ship(line, offset);
    offset += Buffer.byteLength(line) + 1;
  }
}

const server = createServer((_request, res) => {
  const memory = process.memoryUsage();
  res.end(`records ${records}\nchecksum ${checksum}\nrss ${memory.rss}\nheap ${memory.heapTotal}\n`);
});
socket.once('connect', () => {
  server.listen(0, '127.0.0.1', () => {
    console.log(`floor ready on http://127.0.0.1:${server.address().port}/ after ${records} records`);
  });
});
