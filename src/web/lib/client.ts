import { KilnClient } from '../sdk.js';

/**
 * The one SDK client of the dashboard. Same origin as the page, so the `coder_session_token` cookie set by login
 * authenticates every request, the log WebSocket and the watch streams alike.
 */
export const client = new KilnClient(window.location.origin);
