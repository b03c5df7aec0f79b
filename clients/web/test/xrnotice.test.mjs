import assert from 'node:assert/strict';
import test from 'node:test';

import { xrUnavailableReason } from '../src/ui/xrnotice.js';

test('no notice when VR or AR is offered', () => {
  assert.equal(xrUnavailableReason({ secure: true, hasXR: true, vr: true, ar: false }), null);
  assert.equal(xrUnavailableReason({ secure: true, hasXR: true, vr: false, ar: true }), null);
});

test('plain http from a LAN address explains the secure context first', () => {
  assert.equal(xrUnavailableReason({ secure: false, hasXR: false, vr: false, ar: false }), 'insecure');
  assert.equal(xrUnavailableReason({ secure: false, hasXR: true, vr: false, ar: false }), 'insecure');
});

test('a secure page without navigator.xr, or without a headset', () => {
  assert.equal(xrUnavailableReason({ secure: true, hasXR: false, vr: false, ar: false }), 'no-webxr');
  assert.equal(xrUnavailableReason({ secure: true, hasXR: true, vr: false, ar: false }), 'no-headset');
});
