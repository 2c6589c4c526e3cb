export { createRealtime, type Realtime } from "./create-realtime.js";
export { accountRoom, sessionRoom } from "./rooms.js";
export type { OpsNamespace, PanelServer, PanelSocket, RealtimeDeps, SocketData } from "./types.js";
