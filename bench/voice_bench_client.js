// The light voice client of bench/voice_bench.py: real client code, no 3D view; an onset
// detector on the microphone tap and on every remote voice (wall-clock ms). Several clients may
// share one page (window.__benches[i]); with `listen` false (Janus rows) the page's clients only
// publish: they subscribe to nobody (a "speaker" of a large room, to fit 2 cores).
(async ([wsUrl, roomId, name, listen]) => {
  const { Connection } = await import('/app/src/state/connection.js');
  const { VoiceClient } = await import('/app/src/voice/voice.js');
  if (!listen) {
    const { JanusTransport } = await import('/app/src/voice/janus.js');
    JanusTransport.prototype.addPeer = function addPeer(peer) { this.peers.set(peer.session_id, peer); };
  }
  const conn = new Connection({ url: wsUrl, roomId, clientId: 'c-' + Math.random().toString(36).slice(2),
    identity: { name, color: '#336699', device: 'desktop' } });
  const voice = new VoiceClient({ conn, localHead: () => ({ p: [0, 1.6, 0], q: [0, 0, 0, 1] }),
    remotePoses: () => new Map() });
  const bench = { conn, voice, listen, onsets: { mic: [], peers: {} } };
  window.__benches ??= [];
  const idx = window.__benches.push(bench) - 1;
  conn.start();
  const within = (ms, what, p) => Promise.race([p, new Promise((_, no) => setTimeout(() => no(new Error(`${what}: no answer in ${ms} ms`)), ms))]);
  await within(60000, 'room websocket', new Promise((r) => { const t = setInterval(() => { if (conn.state === 'online') { clearInterval(t); r(); } }, 50); }));
  await within(60000, 'voice join', voice.join());
  // onset detector: first loud sample after >= 300 ms of quiet, stamped in wall-clock ms
  const quiet = new Map();
  const buf = new Float32Array(256);
  const onset = (key, analyser, list) => {
    analyser.getFloatTimeDomainData(buf);
    const now = performance.timeOrigin + performance.now();
    let i0 = -1;
    for (let i = 0; i < buf.length; i++) if (Math.abs(buf[i]) > 0.01) { i0 = i; break; }
    if (i0 < 0) {
      if (!quiet.has(key)) quiet.set(key, now);
      return;
    }
    const since = quiet.get(key);
    if (since !== undefined && now - since > 300) list.push(now - ((buf.length - i0) / voice.ctx.sampleRate) * 1000);
    quiet.delete(key);
  };
  setInterval(() => {
    const o = bench.onsets;
    if (voice.micAnalyser) { voice.micAnalyser.fftSize = 256; onset('mic', voice.micAnalyser, o.mic); }
    for (const [sid, a] of voice.audio) { a.analyser.fftSize = 256; onset(sid, a.analyser, (o.peers[sid] ??= [])); }
  }, 3);
  return [idx, conn.sessionId];
})
