// Voice for the room app (docs/voice.md): wires the VoiceClient to the app's connection, poses,
// avatars and people list. The one hook app.js calls.

import { VoiceClient } from './voice.js';
import { VoiceUI } from './ui.js';

/** Voice for `app` (an App of app.js); returns the VoiceClient with its `ui`. */
export function attachVoice(app) {
  const voice = new VoiceClient({
    conn: app.conn,
    localHead: () => (app.model?.bounds || app.conn.welcome ? app.currentPose().head : null),
    remotePoses: () => app.interp.sampleAll(performance.now() / 1000),
  });
  voice.ui = new VoiceUI(voice, {
    bar: document.getElementById('conn'),
    people: document.getElementById('tab-people'),
    avatars: app.avatars,
    invalidate: () => app.viewer.invalidate(),
    role: () => (app.conn.welcome ? app.conn.role : 'viewer'),
    xrSession: () => app.viewer.renderer.xr.getSession?.() ?? null,
  });
  return voice;
}
