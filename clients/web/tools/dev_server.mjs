// Local development harness: serves the client like vrcollab/server/web.py does, a converted
// model directory at /dev-model/, and the in-memory mock room at /ws/rooms/<id>.
// Usage: node tools/dev_server.mjs <model-dir> [port]   then open /r/dev?manifest=/dev-model/manifest.json
import http from 'node:http';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { WebSocketServer } from 'ws';
import { startMockRoom } from './mock_room.mjs';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const modelDir = path.resolve(process.argv[2] ?? '.');
const port = Number(process.argv[3] ?? 8765);
const types = { '.html': 'text/html', '.js': 'text/javascript', '.css': 'text/css', '.json': 'application/json', '.glb': 'model/gltf-binary', '.svg': 'image/svg+xml' };
const mock = await startMockRoom();

const server = http.createServer((req, res) => {
  const u = new URL(req.url, 'http://x');
  let file = null;
  if (u.pathname === '/' || u.pathname.startsWith('/r/')) file = path.join(root, 'index.html');
  else if (u.pathname.startsWith('/app/')) file = path.join(root, u.pathname.slice(5));
  else if (u.pathname.startsWith('/vendor/')) {
    const [pkg, ...rest] = u.pathname.slice(8).split('/');
    file = path.join(root, 'node_modules', pkg, ...rest);
  } else if (u.pathname.startsWith('/dev-model/')) file = path.join(modelDir, u.pathname.slice(11));
  if (!file || file.includes('..') || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
    res.writeHead(404);
    return res.end('not found');
  }
  res.writeHead(200, { 'content-type': types[path.extname(file)] ?? 'application/octet-stream', 'cache-control': 'no-cache' });
  fs.createReadStream(file).pipe(res);
});
// Forward websocket upgrades to the mock room.
const wss = new WebSocketServer({ noServer: true });
server.on('upgrade', (req, sock, head) => {
  wss.handleUpgrade(req, sock, head, (client) => {
    const upstream = new (globalThis.WebSocket ?? (await_ws()))(mock.url);
    client.on('message', (d) => upstream.readyState === 1 ? upstream.send(String(d)) : upstream.addEventListener('open', () => upstream.send(String(d)), { once: true }));
    upstream.onmessage = (ev) => client.send(String(ev.data));
    upstream.onclose = () => client.close();
    client.on('close', () => upstream.close());
  });
});
import WS from 'ws';
function await_ws() { return WS; }
server.listen(port, '127.0.0.1', () => console.log(`dev server on http://127.0.0.1:${port}/`));
