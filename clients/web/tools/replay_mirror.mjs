// Replay server frames into JS room mirrors (used by tests/sync/test_fuzz.py to drive the JS
// room with the seeded fuzz). stdin: {"<name>": ["<frame>", ...], ...}, each list the frames one
// client received in order (across reconnects). stdout: {"<name>": {seq, gap, state}}.
import { readFileSync } from 'node:fs';
import * as codec from '../src/state/codec.js';
import { RoomMirror } from '../src/state/room.js';

const streams = JSON.parse(readFileSync(0, 'utf8'));
const out = {};
for (const [name, frames] of Object.entries(streams)) {
  const m = new RoomMirror();
  let gap = false;
  for (const text of frames) {
    const msg = codec.decode(text);
    if (msg.type === 'welcome') m.welcome(msg);
    else if (msg.type === 'welcome_part') m.welcomePart(msg);
    else if (msg.type === 'commit') m.commit(msg);
    else if (msg.type === 'ack') m.ack(msg);
    if (m.gap) { gap = true; m.gap = null; }
  }
  out[name] = { seq: m.seq, gap, state: m.confirmed };
}
process.stdout.write(JSON.stringify(out));
