// Entering and leaving VR / AR: the buttons (or why not), the device we announce.
import { XRControls } from '../viewer/xr.js';
import { xrNotice } from '../ui/xrnotice.js';
import { el, mount, toast } from '../ui/dom.js';

export class XRSession {
  /** @param {object} deps {cfg, conn, xr (XRControls), xrDraft, onChange() (people list)} */
  constructor({ cfg, conn, xr, xrDraft, onChange }) {
    Object.assign(this, { cfg, conn, xr, xrDraft, onChange });
    this.support = null;
  }

  async setupButtons(box) {
    const { vr, ar } = await XRControls.supported();
    const buttons = [];
    if (vr) buttons.push(el('button', { class: 'btn primary', id: 'enter-vr', onclick: () => this.enter('vr') }, 'Enter VR'));
    if (ar) buttons.push(el('button', { class: 'btn', id: 'enter-ar', onclick: () => this.enter('ar') }, 'Enter AR'));
    mount(box, buttons, xrNotice(el, { vr, ar }));
    this.support = { vr, ar };
  }

  async enter(mode) {
    try {
      await this.xr.enter(mode);
    } catch (err) {
      toast(`Could not start ${mode.toUpperCase()}: ${err.message ?? err}`);
    }
  }

  /** The immersive session started (mode) or ended (null). */
  onSession(mode) {
    if (!mode) this.xrDraft.cancel();
    this.conn.setDevice(mode ?? (this.cfg.identity.device === 'phone' ? 'phone' : 'desktop'));
    // The device is part of the hello; a quick resume (last_seq) tells the others.
    this.conn.reconnect();
    this.onChange();
  }
}
