import { Agent } from 'node:http';
import type { INestApplication, Type } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExpressAdapter } from '@nestjs/platform-express';
import { IoAdapter } from '@nestjs/platform-socket.io';
import { io, type Socket } from 'socket.io-client';

/** An app serving its gateways over Socket.IO on a free port of 127.0.0.1. */
export async function listenWithSocketIo(module: Type): Promise<INestApplication> {
  const app = await NestFactory.create(module, new ExpressAdapter(), { logger: false });
  app.useWebSocketAdapter(new IoAdapter(app));
  await app.listen(0, '127.0.0.1');
  return app;
}

/**
 * A Socket.IO client of `app`, once connected. It joins `opened` before connecting, so that the caller's clean-up
 * disconnects it even when the connection fails (a client left alone keeps reconnecting).
 */
export async function connectSocket(
  app: INestApplication,
  opened: Socket[],
  /** The client's own loopback address (127.0.0.2 ... is another client); the default lets the OS pick 127.0.0.1. */
  localAddress?: string,
): Promise<Socket> {
  const { port } = (app.getHttpServer() as { address(): { port: number } }).address();
  const agent = localAddress === undefined ? undefined : new Agent({ localAddress });
  const socket = io(`http://127.0.0.1:${port}`, { transports: ['websocket'], forceNew: true, agent: agent as never });
  opened.push(socket);
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('connect_error', reject);
  });
  return socket;
}

/** Sends `event` and resolves with the acknowledgement, or with the `exception` event the gateway sent instead. */
export function sendEvent(socket: Socket, event: string): Promise<{ ack?: unknown; exception?: unknown }> {
  return new Promise((resolve) => {
    const onException = (exception: unknown) => resolve({ exception });
    socket.once('exception', onException);
    socket.emit(event, {}, (ack: unknown) => {
      socket.off('exception', onException);
      resolve({ ack });
    });
  });
}

/**
 * Sends `event` with an acknowledgement callback and resolves once it is acknowledged, with the `exception` events
 * the gateway sent before (a refusal: the exception event, then the acknowledgement).
 */
export function sendEventWithAck(
  socket: Socket,
  event: string,
  data: unknown = {},
): Promise<{ ack: unknown; exceptions: unknown[] }> {
  return new Promise((resolve) => {
    const exceptions: unknown[] = [];
    const onException = (exception: unknown) => exceptions.push(exception);
    socket.on('exception', onException);
    socket.emit(event, data, (ack: unknown) => {
      socket.off('exception', onException);
      resolve({ ack, exceptions });
    });
  });
}
