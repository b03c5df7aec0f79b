// That Open Fragments viewer as its docs show it (FragmentsModels with its worker, model.object
// in a three.js scene, fragments.update on camera change). Reports to window.__bench:
// first_frame_ms (first frame with model triangles), full_ms (the first frame of the final
// picture: the model idle and the drawn triangles unchanged for 10 frames from then on),
// triangles, calls.
import * as THREE from 'three';
import * as FRAGS from '@thatopen/fragments';

const t0 = performance.now();
const bench = { first_frame_ms: null, full_ms: null, triangles: 0, calls: 0, error: null };
window.__bench = bench;
const renderer = new THREE.WebGLRenderer({ antialias: false });
renderer.setSize(innerWidth, innerHeight);
document.body.appendChild(renderer.domElement);
const scene = new THREE.Scene();
scene.add(new THREE.HemisphereLight(0xffffff, 0x444444, 2));
const camera = new THREE.PerspectiveCamera(60, innerWidth / innerHeight, 0.1, 10000);
const fragments = new FRAGS.FragmentsModels('./node_modules/@thatopen/fragments/dist/Worker/worker.mjs');

try {
  const url = new URLSearchParams(location.search).get('frag');
  const buf = await (await fetch(url)).arrayBuffer();
  const model = await fragments.load(buf, { modelId: 'bench', camera });
  scene.add(model.object);
  // fit-to-view from the same direction as vrcollab's start view
  const box = model.box && !model.box.isEmpty() ? model.box : new THREE.Box3().setFromObject(model.object);
  const c = box.getCenter(new THREE.Vector3());
  const r = Math.max(box.getSize(new THREE.Vector3()).length() / 2, 1e-3);
  const dir = new THREE.Vector3(1, 0.8, 1).normalize();
  camera.position.copy(c).addScaledVector(dir, r / Math.sin(THREE.MathUtils.degToRad(30)));
  camera.near = Math.max(r / 1000, 0.01);
  camera.far = r * 10;
  camera.lookAt(c);
  camera.updateProjectionMatrix();
  await fragments.update(true);
  let stable = 0;
  let last = -1;
  let since = 0;
  const frame = () => {
    renderer.render(scene, camera);
    const now = performance.now() - t0;
    const { triangles, calls } = renderer.info.render;
    bench.triangles = triangles;
    bench.calls = calls;
    if (triangles > 0 && bench.first_frame_ms === null) bench.first_frame_ms = now;
    if (triangles !== last || model.isBusy || triangles === 0) { stable = 0; since = now; } else stable += 1;
    last = triangles;
    if (stable >= 10 && bench.full_ms === null) bench.full_ms = since;
    if (bench.full_ms === null) {
      fragments.update();
      requestAnimationFrame(frame);
    }
  };
  requestAnimationFrame(frame);
} catch (err) {
  bench.error = String(err?.stack || err);
}
