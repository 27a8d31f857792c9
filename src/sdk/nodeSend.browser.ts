import { sendWithFetch, type Send } from './send.js';

/** nodeSend.ts for the dashboard's bundle (src/web/vite.config.ts): browsers send with fetch. */
export const defaultSend: Send = sendWithFetch((input, init) => fetch(input, init));
