// Tools and permissions: the toolbar, the pointer tool in use, what the role allows (and why
// not), and sending ops with a clear message when refused. Features add toolbar actions with
// register(id, fn); pointer tools are the MODES.
import { canSend } from '../state/codec.js';
import { lockReasons } from '../tools/people.js';
import { toast } from '../ui/dom.js';
import * as hud from '../ui/hud.js';

/** Pointer tools (one active at a time); every other toolbar id is an action. */
export const MODES = ['select', 'annotate', 'measure', 'markup', 'move', 'rotate'];

export class Tools {
  /** @param {object} deps {conn, bus, root (toolbar element)} */
  constructor({ conn, bus, root }) {
    this.conn = conn;
    this.bus = bus;
    this.mode = 'select';
    this.actions = new Map();
    this.toolbar = hud.buildToolbar(root, (t) => this.press(t), { onLocked: (id, reason) => toast(reason) });
    this.toolbar.setActive('select', true);
  }

  /** Whether our role may send this op kind (false before the welcome). */
  can(kind) {
    return this.conn.welcome ? canSend(this.conn.role, kind) : false;
  }

  /** Send an op, or say why not (role, bad input); returns the op id or null. */
  send(kind, fields) {
    if (!this.can(kind) && this.conn.welcome) {
      toast(`Your role (${this.conn.role}) cannot do that.`);
      return null;
    }
    try {
      return this.conn.send(kind, fields);
    } catch (err) {
      toast(String(err.message ?? err));
      return null;
    }
  }

  /** Our user id, or null before the welcome. */
  get me() {
    return this.conn.welcome?.user?.user_id ?? null;
  }

  /** Whether we are the room's presenter. */
  get presenting() {
    return Boolean(this.conn.welcome && this.conn.mirror.view.presenter === this.conn.welcome.user.user_id);
  }

  /** A toolbar action (not a pointer tool): `fn()` runs when its button or key is pressed. */
  register(id, fn) {
    this.actions.set(id, fn);
  }

  press(id) {
    if (MODES.includes(id)) this.setMode(id);
    else this.actions.get(id)?.();
  }

  setMode(id) {
    this.mode = id;
    for (const t of MODES) this.toolbar.setActive(t, t === id);
    this.bus.emit('mode', id);
  }

  /** Lock what the role does not allow, saying why (hide, isolate, section: everyone's own view). */
  refresh() {
    const role = this.conn.welcome ? this.conn.role : 'viewer';
    for (const [tool, reason] of Object.entries(lockReasons(role, { presenting: this.presenting, online: Boolean(this.conn.welcome) }))) {
      this.toolbar.setEnabled(tool, reason === null, reason ?? undefined);
    }
  }
}
