// A short mouse-navigation help in the top-left corner of the 3D view: a small button that
// opens the list (closed by default so it never covers the model; remembered per tab).
import { el } from './dom.js';

const LINES = [
  ['Left drag', 'orbit'],
  ['Right drag or Shift + drag', 'pan'],
  ['Wheel', 'zoom'],
  ['Double-click', 'fly to a point'],
  ['Click', 'select a part (H hides it for you)'],
  ['F', 'frame the model'],
];

export function showNavHelp(stage) {
  const key = 'vrcollab.navhelp';
  let open = sessionStorage.getItem(key) === 'open';
  const body = el('dl', { class: 'nav-help-body' }, LINES.map(([k, v]) => [el('dt', {}, k), el('dd', {}, v)]).flat());
  const toggle = el('button', { class: 'btn small', id: 'nav-help-toggle', 'aria-expanded': String(open) }, open ? 'Hide help' : 'Mouse help');
  const box = el('div', { class: 'nav-help', id: 'nav-help', role: 'note', 'aria-label': 'Mouse navigation' }, toggle, body);
  const apply = () => {
    body.hidden = !open;
    toggle.textContent = open ? 'Hide help' : 'Mouse help';
    toggle.setAttribute('aria-expanded', String(open));
  };
  toggle.addEventListener('click', () => {
    open = !open;
    sessionStorage.setItem(key, open ? 'open' : 'closed');
    apply();
  });
  apply();
  stage.append(box);
  return box;
}
