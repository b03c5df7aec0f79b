// The mouse on the 3D view: hover (tooltip, highlight, measure snapping), clicks routed by the
// pointer tool (pins, measure, annotate, select), double-click to fly.
import * as hud from '../ui/hud.js';
import { toast } from '../ui/dom.js';

export class PointerInput {
  /**
   * @param {object} deps {viewer, model, tools, bus, measure (MeasureTool), markup (MarkupControl), gizmo, pins,
   *   onPin(annotationId), onAnnotate(hit, event), onSelect(part|null)}
   */
  constructor(deps) {
    Object.assign(this, deps);
    this.pointer = null; // {ndc, x, y} while the mouse is over the view
    this.hoverHit = null;
    this.bus.on('mode', (id) => {
      this.measure.reset();
      this.viewer.renderer.domElement.style.cursor = id === 'annotate' || id === 'measure' || id === 'markup' ? 'crosshair' : '';
    });
    window.addEventListener('keydown', (e) => { if (e.key === 'Escape') this.measure.reset(); });
    this._wire();
  }

  _wire() {
    const canvas = this.viewer.renderer.domElement;
    let down = null;
    let hoverQueued = null;
    canvas.addEventListener('pointermove', (e) => {
      this.pointer = { ndc: this.viewer.ndc(e), x: e.clientX, y: e.clientY };
      // The gizmo's hover state and drag plane update when a frame is drawn.
      if (this.gizmo.tc.object) this.viewer.invalidate(100);
      if (!hoverQueued) {
        hoverQueued = requestAnimationFrame(() => {
          hoverQueued = null;
          this.hover();
        });
      }
    });
    canvas.addEventListener('pointerleave', () => {
      this.pointer = null;
      this.model.setHover(null);
      hud.showTooltip(0, 0, null);
    });
    canvas.addEventListener('pointerdown', (e) => { down = { x: e.clientX, y: e.clientY, t: performance.now() }; });
    canvas.addEventListener('pointerup', (e) => {
      if (!down || e.button !== 0) return;
      const moved = Math.hypot(e.clientX - down.x, e.clientY - down.y);
      down = null;
      if (moved > 5 || this.gizmo.active) return;
      this.click(e);
    });
    canvas.addEventListener('dblclick', (e) => {
      if (this.tools.mode === 'markup') {
        this.markup.finish();
        return;
      }
      const hit = this.model.pickPrecise(this.viewer.ndc(e));
      if (hit) this.viewer.flyToPoint(hit.point);
    });
  }

  /** A part's properties arrived (tiled models load them on demand): refresh the tooltip. */
  partInfoArrived(part) {
    if (this.pointer && this.hoverHit?.part === part) hud.showTooltip(this.pointer.x, this.pointer.y, this.model.partInfo(part));
  }

  hover() {
    if (!this.pointer || this.gizmo.active) return;
    const measuring = this.tools.mode === 'measure';
    // Measuring snaps to the displayed level's triangles; hovering otherwise uses the cheap proxy.
    const hit = measuring ? this.model.pickPrecise(this.pointer.ndc) : this.model.pickHover(this.pointer.ndc);
    if (measuring) this.measure.hover(hit, [this.pointer.x, this.pointer.y]);
    if (this.tools.mode === 'markup') this.markup.tool.hover(hit);
    this.hoverHit = hit;
    this.model.setHover(hit?.part ?? null);
    hud.showTooltip(this.pointer.x, this.pointer.y, hit?.part ? this.model.partInfo(hit.part) : null);
  }

  click(e) {
    const mode = this.tools.mode;
    const ndc = this.viewer.ndc(e);
    this.viewer.raycaster.setFromCamera(ndc, this.viewer.camera);
    const pin = this.pins.pick(this.viewer.raycaster);
    if (pin && mode !== 'annotate') {
      this.onPin(pin);
      return;
    }
    const hit = this.model.pickPrecise(ndc);
    if (mode === 'measure') {
      const m = this.measure.click(hit, [e.clientX, e.clientY]);
      toast(m ? 'Measured. Click again for another one.' : hit ? this.measure.prompt() : 'Click on the model.');
      return;
    }
    if (mode === 'annotate') {
      if (hit) this.onAnnotate(hit, e);
      return;
    }
    if (mode === 'markup') {
      this.markup.click(hit);
      return;
    }
    this.onSelect(hit?.part ?? null);
  }
}
