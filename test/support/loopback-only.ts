/**
 * Whether a local server listens on 127.0.0.1 only, checked two ways: the listening socket's
 * own address, read from the kernel's table (/proc/net/tcp and tcp6, Linux), which needs no
 * other interface; and a real connection, accepted on 127.0.0.1 and refused on this machine's
 * address that is not loopback, when it has one.
 */
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { networkInterfaces } from 'node:os';
import ipaddr from 'ipaddr.js';
import { expect } from 'vitest';

/** The kernel's state code of a listening socket in /proc/net/tcp. */
const LISTEN = '0A';

/** This machine's first IPv4 address that is not loopback, if it has one. */
export const OTHER_ADDRESS = Object.values(networkInterfaces())
  .flat()
  .find((entry) => entry !== undefined && !entry.internal && entry.family === 'IPv4')?.address;

/** Asserts that the server at `endpoint` (a URL or a port) listens on 127.0.0.1 and nowhere else. */
export async function expectLoopbackOnly(endpoint: string | number): Promise<void> {
  const port = typeof endpoint === 'number' ? endpoint : Number(new URL(endpoint).port);
  const addresses = listeningAddresses(port);
  expect(addresses, `sockets listening on port ${port}`).not.toEqual([]);
  for (const address of addresses) {
    expect(ipaddr.process(address).range(), `${endpoint} listens on ${address}`).toBe('loopback');
  }
  expect(await accepts('127.0.0.1', port), `${endpoint} on 127.0.0.1`).toBe(true);
  if (OTHER_ADDRESS !== undefined) {
    expect(await accepts(OTHER_ADDRESS, port), `${endpoint} on ${OTHER_ADDRESS}`).toBe(false);
  }
}

/** Local addresses of the TCP sockets listening on `port`, as the kernel lists them. */
export function listeningAddresses(port: number): string[] {
  return [
    ...listening(readFileSync('/proc/net/tcp', 'utf8'), port),
    ...listening(readFileSync('/proc/net/tcp6', 'utf8'), port),
  ];
}

function listening(table: string, port: number): string[] {
  return table
    .split('\n')
    .slice(1)
    .map((line) => line.trim().split(/\s+/))
    .filter(([, local, , state]) => state === LISTEN && local?.endsWith(`:${hexPort(port)}`))
    .map(([, local]) => address((local as string).split(':')[0] as string));
}

function hexPort(port: number): string {
  return port.toString(16).toUpperCase().padStart(4, '0');
}

/** The kernel prints each 32-bit word of an address in the machine's (little-endian) order. */
function address(hex: string): string {
  const bytes: number[] = [];
  for (let word = 0; word < hex.length; word += 8) {
    for (let byte = 6; byte >= 0; byte -= 2) {
      bytes.push(Number.parseInt(hex.slice(word + byte, word + byte + 2), 16));
    }
  }
  return ipaddr.fromByteArray(bytes).toString();
}

/** Whether a TCP connection to `host:port` is accepted. */
export function accepts(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
