// Why there is no "Enter VR" button, and how to get one. WebXR exists only in a secure context
// (https://, or http://localhost), so a headset that opens http://<LAN address> sees no button.

/**
 * The reason immersive sessions are unavailable, or null when VR or AR is offered.
 * @param {{secure: boolean, hasXR: boolean, vr: boolean, ar: boolean}} s
 * @returns {'insecure' | 'no-webxr' | 'no-headset' | null}
 */
export function xrUnavailableReason({ secure, hasXR, vr, ar }) {
  if (vr || ar) return null;
  if (!secure) return 'insecure';
  if (!hasXR) return 'no-webxr';
  return 'no-headset';
}

const TEXT = {
  insecure: {
    title: 'No Enter VR: this page is not a secure context',
    body: [
      'Browsers offer WebXR only over https:// (or on http://localhost). This page came over plain http from another address.',
      'Fix: start the server with "vrcollab serve --https --host 0.0.0.0" (or "./dev serve --https --host 0.0.0.0") and open the https:// link it prints or scan its QR code; accept the certificate once. Or connect the headset by USB and run "adb reverse tcp:8000 tcp:8000", then open http://localhost:8000 in the headset. See docs/headset.md.',
    ],
  },
  'no-webxr': {
    title: 'No Enter VR: this browser has no WebXR',
    body: [
      'Open this link in the headset\'s own browser (Meta Quest Browser, Pico Browser, or Chrome on Android for AR). On a desktop, Chrome or Edge with a WebXR emulator extension works; add ?xr=emulate to the room link to use the built-in emulator.',
    ],
  },
  'no-headset': {
    title: 'No Enter VR: no headset found',
    body: [
      'WebXR is available but no VR or AR device is connected. Open this link in the headset\'s browser (same Wi-Fi, served with --https), or connect a PC VR headset and its runtime (SteamVR, Oculus Link).',
    ],
  },
};

/** The current page's XR situation (secure context, navigator.xr present). */
export function pageXR() {
  return { secure: Boolean(window.isSecureContext), hasXR: Boolean(navigator.xr) };
}

/**
 * A small expandable notice for the top bar, or null when there is nothing to explain.
 * @param {(tag: string, attrs?: object, ...children: any[]) => HTMLElement} el  the DOM builder
 * @param {{vr: boolean, ar: boolean}} support  what XRControls.supported() found
 */
export function xrNotice(el, support) {
  const reason = xrUnavailableReason({ ...pageXR(), ...support });
  if (!reason) return null;
  const t = TEXT[reason];
  return el('details', { id: 'xr-notice', class: 'xr-notice', dataset: { reason } },
    el('summary', { title: t.title }, 'Why no Enter VR?'),
    el('div', { class: 'xr-notice-body', role: 'note' },
      el('strong', {}, t.title), ...t.body.map((p) => el('p', {}, p))));
}
