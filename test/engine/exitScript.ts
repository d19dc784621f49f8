/**
 * Run by threads.test.ts in a child process: plays a file through the threaded player to a UDP receiver, destroys
 * the player, and then does nothing: the process must exit by itself (no worker thread or socket keeps it alive).
 */
import { createSocket } from 'node:dgram';
import { createPlayer } from '../../src/engine/player.js';
import { createRtpSender } from '../../src/engine/sender.js';

const rx = createSocket('udp4');
await new Promise<void>((r) => rx.bind(0, '127.0.0.1', r));
const { port } = rx.address();
const player = createPlayer({ sender: createRtpSender({ target: { host: '127.0.0.1', port }, roomBitrate: 96000 }), roomBitrate: 96000 });
const item = player.enqueue(process.argv[2] as string, { seek: 2 });
const end = await item.done;
console.log(`played ${end.reason}`);
await player.destroy();
rx.close();
