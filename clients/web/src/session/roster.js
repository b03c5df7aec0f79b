// Who is here and who was: names from presence and from project membership (offline authors,
// assignee pickers), avatars, and the people tab.
import { fetchMembers } from '../tools/people.js';
import * as hud from '../ui/hud.js';

export class Roster {
  /** @param {object} deps {conn, viewer, avatars, interp, bus, cfg, following() -> target,
   *   onFollow(sid), onMembers() (the member list arrived)} */
  constructor({ conn, viewer, avatars, interp, bus, cfg, following, onFollow, onMembers }) {
    Object.assign(this, { conn, viewer, avatars, interp, cfg, following, onFollow, onMembers });
    this.names = new Map();
    this.memberNames = new Map();
    this.members = [];
    bus.on('welcome', (w) => {
      this.names.set(w.user.user_id, w.user.name);
      for (const p of w.presence ?? []) this.names.set(p.user_id, p.name);
      this.loadMembers();
    });
    conn.on('presence', (m) => {
      if (m.entry.name) this.names.set(m.entry.user_id, m.entry.name);
      if (m.event === 'leave') {
        this.avatars.remove(m.entry.session_id);
        this.interp.remove(m.entry.session_id);
      }
    });
  }

  nameOf(userId) {
    if (!userId) return 'someone';
    if (userId === this.conn.welcome?.user?.user_id) return 'You';
    // Online people by the name they joined with; offline authors by their account name.
    return this.names.get(userId) ?? this.memberNames.get(userId) ?? String(userId).slice(0, 10);
  }

  async loadMembers() {
    const list = await fetchMembers(this.cfg.roomId, this.cfg.authHeader);
    if (!list) return;
    this.members = list;
    for (const m of list) this.memberNames.set(m.user_id, m.name);
    this.onMembers();
  }

  /** Avatars for everyone present, and the people tab. */
  sync() {
    this.viewer.invalidate();
    const view = this.conn.mirror.view;
    const people = [...this.conn.participants.values()];
    for (const p of people) this.avatars.upsert(p);
    const self = this.conn.welcome ? { ...this.conn.welcome.user, device: this.conn.identity.device } : null;
    hud.renderPeople(document.getElementById('tab-people'), {
      self, participants: people, presenter: view.presenter, following: this.following(),
      onFollow: (sid) => this.onFollow(sid),
    });
  }
}
