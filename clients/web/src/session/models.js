// Model switching: load the room's model, replace it when the room moves to another version
// (loads run one after another), progress and load timings, the model line under the view.
import * as THREE from 'three';
import { detectDeviceClass } from '../state/lod.js';
import { toast } from '../ui/dom.js';
import * as hud from '../ui/hud.js';

export class ModelSwitcher {
  /** @param {object} deps {cfg, conn, model, avatars, bus, timings, t0 (performance.now origin)} */
  constructor({ cfg, conn, model, avatars, bus, timings, t0 }) {
    Object.assign(this, { cfg, model, avatars, bus, timings, t0 });
    this.url = null; // the model the room shows (the one loading or loaded)
    this.task = null;
    this.error = null;
    bus.on('welcome', (w) => {
      const url = w.room?.model?.manifest_url;
      // First join, or a resume after the room switched versions while we were away.
      if (url && !cfg.manifestUrl && url !== this.url) this.switchTo(url);
      if (!url && !cfg.manifestUrl) hud.showLoading('This room has no model yet.', 0);
    });
    conn.on('model', (m) => {
      if (m?.manifest_url && !cfg.manifestUrl) this.switchTo(m.manifest_url);
    });
  }

  /** Load the room's model, or replace the one on screen when the room moved to another version
   * (loads run one after another, so a quick second switch waits for the first). */
  switchTo(url) {
    if (url === this.url) return this.task;
    const previous = this.url;
    this.url = url;
    this.task = (this.task ?? Promise.resolve()).then(async () => {
      if (this.url !== url) return; // superseded while waiting
      if (previous) {
        this.bus.emit('unload');
        this.model.unload();
        toast('The room moved to a new model version');
      }
      await this.load(url);
    });
    return this.task;
  }

  async load(url) {
    const device = this.cfg.deviceClass ?? detectDeviceClass({ userAgent: navigator.userAgent, xrHeadset: Boolean(this.cfg.xrEmulate) });
    this.model.onProgress = (level, i, n, ev) => {
      const frac = ev.total ? ev.loaded / ev.total : 0.5;
      hud.showLoading(`Loading ${level.name} (${i + 1}/${n}) · ${(ev.loaded / 1e6).toFixed(1)} MB`, (i + frac) / n);
    };
    this.model.onLevel = (level, last) => {
      const now = performance.now() - this.t0;
      if (this.timings.first_level_ms === undefined) this.timings.first_level_ms = now;
      if (last) this.timings.full_detail_ms = now;
      this.bus.emit('level', level, last);
      const info = document.getElementById('model-info');
      const tri = level.triangles ? `${(level.triangles / 1000).toFixed(level.triangles < 10000 ? 1 : 0)}k triangles` : '';
      info.textContent = `${this.model.manifest?.source?.name ?? 'model'} · ${level.name}${tri ? ` · ${tri}` : ''}`;
      if (this.model.bounds) this.avatars.setScale(Math.max(1, this.model.bounds.getSize(new THREE.Vector3()).length() / 40));
      if (last) hud.showLoading(null);
    };
    try {
      await this.model.load(url, device);
    } catch (err) {
      console.error(err);
      hud.showLoading(`Could not load the model: ${err.message ?? err}`, 0);
      this.error = String(err.message ?? err);
    }
  }
}
