// Controller and hand models in VR: three.js's XRControllerModelFactory (the input profile's
// GLB for the connected controller, buttons animated) and XRHandModelFactory (the generic hand
// mesh, skinned to the tracked joints). The WebXR input-profile assets are self-hosted under
// /vendor/@webxr-input-profiles/ (npm @webxr-input-profiles/assets): the page allows no CDN.
import { XRControllerModelFactory } from 'three/addons/webxr/XRControllerModelFactory.js';
import { XRHandModelFactory } from 'three/addons/webxr/XRHandModelFactory.js';

/** Where the server serves the input profiles (vrcollab/server/web.py VENDOR_WHITELIST). */
export const PROFILES_PATH = '/vendor/@webxr-input-profiles/assets/dist/profiles';

export class InputModels {
  /**
   * @param {THREE.WebXRManager} xr the renderer's XR manager
   * @param {THREE.Object3D} rig the parent of the controller spaces
   * @param {Array<{grip: THREE.Object3D, body: THREE.Object3D}>} controllers the placeholder
   *   body of each grip is hidden once its model loaded
   */
  constructor(xr, rig, controllers) {
    this.loaded = { controllers: 0, hands: 0 };
    this.controllerFactory = new XRControllerModelFactory(null, () => { this.loaded.controllers += 1; }).setPath(PROFILES_PATH);
    this.handFactory = new XRHandModelFactory(null, () => { this.loaded.hands += 1; }).setPath(`${PROFILES_PATH}/generic-hand/`);
    this.controllers = controllers.map(({ grip, body }, i) => {
      const model = this.controllerFactory.createControllerModel(grip);
      grip.add(model);
      const hand = xr.getHand(i);
      const handModel = this.handFactory.createHandModel(hand, 'mesh');
      hand.add(handModel);
      rig.add(hand);
      return { grip, body, model, hand, handModel };
    });
  }

  /** Every frame: a grip's placeholder box shows only until the profile's model is there. */
  frame() {
    for (const c of this.controllers) c.body.visible = c.model.children.length === 0;
  }

  describe() {
    return {
      path: PROFILES_PATH,
      loaded: { ...this.loaded },
      controllers: this.controllers.map((c) => ({
        asset: c.model.motionController?.assetUrl ?? null,
        shown: c.model.children.length > 0,
      })),
      hands: this.controllers.map((c) => ({ shown: c.handModel.children.length > 0 })),
    };
  }
}
