// The selected part and the inspector that shows it.
import * as hud from '../ui/hud.js';

export class Selection {
  /** @param {object} deps {conn, model, bus} */
  constructor({ conn, model, bus }) {
    this.conn = conn;
    this.model = model;
    this.bus = bus;
    this.part = null;
  }

  /** Select a part (null clears): highlighted, shown in the inspector, announced on the bus. */
  select(part) {
    this.part = part;
    this.model.setSelected(part);
    hud.showInspector(part ? this.model.partInfo(part) : null, part ? this.conn.mirror.view.nodes[part] : null);
    if (part) hud.showTab('part');
    this.bus.emit('select', part);
  }

  /** Forget the selection without touching the model (it is about to be unloaded). */
  reset() {
    this.part = null;
    hud.showInspector(null);
    this.bus.emit('select', null);
  }

  /** Redraw the inspector (the room's node state or the part's properties changed). */
  refresh(part = this.part) {
    if (part && part === this.part) hud.showInspector(this.model.partInfo(part), this.conn.mirror.view.nodes[part]);
  }
}
