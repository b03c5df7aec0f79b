// QR codes drawn locally (uqr, served from this server): an SVG for a headset's camera.
import { renderSVG } from 'uqr';

export function qrElement(text) {
  const box = document.createElement('div');
  box.className = 'qr';
  const svg = new DOMParser().parseFromString(renderSVG(text, { border: 2 }), 'image/svg+xml').documentElement;
  box.append(document.importNode(svg, true));
  return box;
}
