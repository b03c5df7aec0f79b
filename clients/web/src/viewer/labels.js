// Text sprites drawn on a canvas with fillText: names and pin numbers are text, never markup.
import * as THREE from 'three';

/** A camera-facing label; `screenSize` is its height as a fraction of the view (no attenuation). */
export function textSprite(text, { color = '#ffffff', background = 'rgba(15,20,25,0.85)', screenSize = 0.035, fontPx = 40 } = {}) {
  const canvas = document.createElement('canvas');
  const ctx = canvas.getContext('2d');
  const font = `600 ${fontPx}px Inter, "Segoe UI", system-ui, sans-serif`;
  ctx.font = font;
  const label = String(text).slice(0, 60);
  const w = Math.ceil(ctx.measureText(label).width) + fontPx;
  const h = Math.ceil(fontPx * 1.5);
  canvas.width = w;
  canvas.height = h;
  ctx.font = font;
  ctx.fillStyle = background;
  roundRect(ctx, 0, 0, w, h, h / 3);
  ctx.fill();
  ctx.fillStyle = color;
  ctx.textBaseline = 'middle';
  ctx.fillText(label, fontPx / 2, h / 2 + 1);
  const tex = new THREE.CanvasTexture(canvas);
  tex.colorSpace = THREE.SRGBColorSpace;
  const mat = new THREE.SpriteMaterial({ map: tex, depthTest: false, transparent: true, sizeAttenuation: false });
  const sprite = new THREE.Sprite(mat);
  sprite.scale.set((screenSize * w) / h, screenSize, 1);
  sprite.renderOrder = 10;
  sprite.userData.text = label;
  return sprite;
}

/** A round pin marker with a number, coloured by status. */
export function pinSprite(number, fill) {
  const size = 64;
  const canvas = document.createElement('canvas');
  canvas.width = size;
  canvas.height = size;
  const ctx = canvas.getContext('2d');
  ctx.beginPath();
  ctx.arc(size / 2, size / 2, size / 2 - 4, 0, Math.PI * 2);
  ctx.fillStyle = fill;
  ctx.fill();
  ctx.lineWidth = 4;
  ctx.strokeStyle = '#ffffff';
  ctx.stroke();
  ctx.fillStyle = '#ffffff';
  ctx.font = '700 28px Inter, system-ui, sans-serif';
  ctx.textAlign = 'center';
  ctx.textBaseline = 'middle';
  ctx.fillText(String(number), size / 2, size / 2 + 1);
  const tex = new THREE.CanvasTexture(canvas);
  tex.colorSpace = THREE.SRGBColorSpace;
  const sprite = new THREE.Sprite(new THREE.SpriteMaterial({ map: tex, depthTest: false, transparent: true, sizeAttenuation: false }));
  sprite.scale.set(0.035, 0.035, 1);
  sprite.renderOrder = 11;
  return sprite;
}

function roundRect(ctx, x, y, w, h, r) {
  ctx.beginPath();
  ctx.moveTo(x + r, y);
  ctx.arcTo(x + w, y, x + w, y + h, r);
  ctx.arcTo(x + w, y + h, x, y + h, r);
  ctx.arcTo(x, y + h, x, y, r);
  ctx.arcTo(x, y, x + w, y, r);
  ctx.closePath();
}

export function disposeSprite(s) {
  s.material.map?.dispose();
  s.material.dispose();
}
