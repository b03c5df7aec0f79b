// The room's meeting indicator (protocol R29): a red "Recording" badge in the top bar for
// everyone while the meeting is recorded, a quiet "Meeting" badge while one runs unrecorded.
import { el } from '../ui/dom.js';

export function showMeeting(msg, root = document.getElementById('topbar')) {
  if (!root) return null;
  let badge = document.getElementById('meeting-badge');
  if (!badge) {
    badge = el('div', { id: 'meeting-badge', class: 'meeting-badge', role: 'status' });
    const conn = document.getElementById('conn');
    if (conn && conn.parentNode === root) root.insertBefore(badge, conn); else root.append(badge);
  }
  const recording = Boolean(msg?.meeting_id && msg.recording);
  badge.hidden = !msg?.meeting_id;
  badge.dataset.recording = recording ? '1' : '0';
  badge.dataset.meeting = msg?.meeting_id ?? '';
  badge.textContent = recording ? '● Recording' : 'Meeting';
  badge.title = recording ? 'This meeting is recorded (poses, presence and changes) for replay and minutes.' : 'A meeting is running; it is not recorded.';
  badge.style.cssText = recording
    ? 'background:#c62828;color:#fff;border-radius:4px;padding:2px 8px;font-weight:600;margin-right:8px'
    : 'background:#2b3848;color:#cfd8e3;border-radius:4px;padding:2px 8px;margin-right:8px';
  return badge;
}
