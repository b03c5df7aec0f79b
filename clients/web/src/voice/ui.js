// Voice controls (docs/voice.md): Join/Leave, Mute (button, M key, a controller button in VR:
// B on the right controller toggles), meeting mode, host "Mute all"; in the people list a speaking/muted marker, a
// volume slider per person and, for hosts, a mute button; a speaking ring over avatars.

import * as THREE from 'three';
import { el, mount } from '../ui/dom.js';

const HOST_ROLES = new Set(['owner', 'editor']);
// B on the right controller (xr-standard index 5); A/X teleport and Y opens the menu (viewer/xr.js)
const XR_MUTE = { handedness: 'right', button: 5 };

function typing(target) {
  const t = target?.tagName;
  return t === 'INPUT' || t === 'TEXTAREA' || t === 'SELECT' || target?.isContentEditable;
}

export class VoiceUI {
  constructor(voice, { bar, people, avatars, invalidate, role, xrSession }) {
    this.voice = voice;
    this.people = people;
    this.avatars = avatars;
    this.invalidate = invalidate;
    this.role = role;
    this.xrSession = xrSession;
    this.rings = new Map();
    this.box = el('div', { class: 'voice-controls', id: 'voice-controls' });
    bar.parentNode.insertBefore(this.box, bar);
    this._buttons();
    window.addEventListener('keydown', (e) => {
      if ((e.key === 'm' || e.key === 'M') && !e.ctrlKey && !e.metaKey && !e.altKey && !typing(e.target)) {
        if (this.voice.state !== 'off') this.voice.toggleMute();
      }
    });
    voice.onChange(() => this.render());
    new MutationObserver(() => this._decoratePeople()).observe(people, { childList: true });
    this._xrPressed = new Map();
    setInterval(() => this._pollXR(), 50);
    this.render();
  }

  _buttons() {
    this.joinBtn = el('button', { class: 'btn small', id: 'voice-join', onclick: () => {
      if (this.voice.state === 'off') this.voice.join().catch((err) => { this.voice.lastError = String(err); this.render(); });
      else this.voice.leave();
    } }, 'Join voice');
    this.muteBtn = el('button', { class: 'btn small', id: 'voice-mute', title: 'Mute / unmute (M)', onclick: () => this.voice.toggleMute() }, 'Mute');
    this.meetingBtn = el('button', { class: 'btn small', id: 'voice-meeting', title: 'Meeting mode: voices not placed in space', onclick: () => this.voice.setMeetingMode(!this.voice.meeting) }, 'Meeting mode');
    this.muteAllBtn = el('button', { class: 'btn small', id: 'voice-mute-all', onclick: () => this.voice.hostMute('*') }, 'Mute all');
    this.status = el('span', { class: 'voice-status', id: 'voice-status' });
    mount(this.box, this.joinBtn, this.muteBtn, this.meetingBtn, this.muteAllBtn, this.status);
  }

  render() {
    const v = this.voice;
    const on = v.state !== 'off';
    this.joinBtn.textContent = on ? 'Leave voice' : 'Join voice';
    this.muteBtn.hidden = !on;
    this.muteBtn.textContent = v.muted ? 'Unmute' : 'Mute';
    this.muteBtn.classList.toggle('active', v.muted);
    this.meetingBtn.hidden = !on;
    this.meetingBtn.classList.toggle('active', v.meeting);
    this.muteAllBtn.hidden = !on || !HOST_ROLES.has(this.role());
    const listening = on && v.state === 'on' && !v.canSpeak ? ' · listening only' : '';
    this.status.textContent = on ? `${v.state === 'on' ? `voice (${v.mode})` : 'joining…'}${listening}${v.speaking() ? ' · speaking' : ''}` : '';
    this.status.title = v.lastError ?? '';
    this._decoratePeople();
    this._rings();
  }

  _decoratePeople() {
    const v = this.voice;
    for (const row of this.people.querySelectorAll('.person')) {
      const sid = row.dataset.session === 'self' ? null : row.dataset.session;
      const peer = sid ? v.peers.get(sid) : null;
      let box = row.querySelector('.voice');
      const inVoice = sid === null ? v.state === 'on' : Boolean(peer);
      if (!inVoice) {
        box?.remove();
        continue;
      }
      if (!box) {
        box = el('span', { class: 'voice' });
        row.appendChild(box);
      }
      const muted = sid === null ? v.muted : peer.muted;
      const speaking = v.speaking(sid);
      box.dataset.speaking = String(speaking);
      box.dataset.muted = String(muted);
      const items = [el('span', { class: 'mic', title: muted ? 'muted' : (speaking ? 'speaking' : 'in voice') }, muted ? '🔇' : (speaking ? '🔊' : '🎙'))];
      if (peer) {
        const vol = v.volumes.get(peer.user_id) ?? 1;
        items.push(el('input', { type: 'range', min: '0', max: '2', step: '0.1', value: String(vol), class: 'vol', title: 'Volume', oninput: (e) => v.setVolume(peer.user_id, Number(e.target.value)) }));
        if (HOST_ROLES.has(this.role()) && !peer.muted) items.push(el('button', { class: 'btn small host-mute', onclick: () => v.hostMute(sid) }, 'Mute'));
      }
      // keep the slider alive while it is dragged
      if (box.querySelector('.vol') && document.activeElement === box.querySelector('.vol')) continue;
      mount(box, ...items);
    }
  }

  _rings() {
    const v = this.voice;
    for (const [sid, a] of this.avatars.items) {
      let ring = this.rings.get(sid);
      if (!ring || ring.parent !== a.head) {
        ring = new THREE.Mesh(new THREE.TorusGeometry(0.16, 0.015, 8, 24), new THREE.MeshBasicMaterial({ color: 0x3ddc84 }));
        ring.rotation.x = Math.PI / 2;
        ring.position.y = 0.2;
        ring.name = 'speaking';
        a.head.add(ring);
        this.rings.set(sid, ring);
      }
      const show = v.speaking(sid);
      if (ring.visible !== show) {
        ring.visible = show;
        this.invalidate();
      }
    }
    for (const sid of [...this.rings.keys()]) if (!this.avatars.items.has(sid)) this.rings.delete(sid);
  }

  /** A controller button toggles mute in VR (edge-triggered). */
  _pollXR() {
    const session = this.xrSession();
    if (!session || this.voice.state === 'off') return;
    for (const src of session.inputSources ?? []) {
      if (src.handedness !== XR_MUTE.handedness) continue;
      const down = Boolean(src.gamepad?.buttons?.[XR_MUTE.button]?.pressed);
      if (down && !this._xrPressed.get(src.handedness)) this.voice.toggleMute();
      this._xrPressed.set(src.handedness, down);
    }
  }

  describe() {
    return { rings: [...this.rings].filter(([, r]) => r.visible).map(([sid]) => sid) };
  }
}
