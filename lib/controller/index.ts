export { startControlPlane, type ControlPlane, type ControlPlaneOptions } from './control-plane.js';
export { Controller, type ControllerOptions } from './controller.js';
export { desiredPolicyStatus, rejectedPolicyStatus } from './policy-status.js';
export { gatewayNodeList } from './gateway-status.js';
export { layoutSlices, MAX_ENDPOINTS_PER_SLICE } from './slice-layout.js';
export { tunnelStatus } from './tunnel-status.js';
