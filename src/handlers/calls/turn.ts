/**
 * TURN credentials in the coturn REST-API scheme ("A REST API for Access To TURN Services",
 * draft-uberti-behave-turn-rest; coturn `use-auth-secret` + `static-auth-secret`): the username is
 * `<expiry>:<userId>` with expiry in seconds since the epoch, the credential is
 * base64(HMAC-SHA1(secret, username)). The TURN server recomputes it and checks the expiry.
 */
import { createHmac } from 'node:crypto';
import type { CallsConfig } from '../../config.js';
import { isoMs } from '../../kernel/schemas.js';

export interface IceServer {
  urls: string[];
  username?: string;
  credential?: string;
}

export interface TurnCredentials {
  /** Empty without TURN_SECRET (STUN only). */
  username: string;
  credential: string;
  ttlMs: number;
  expiresAt: string;
  /** Ready for `new RTCPeerConnection({iceServers})`. */
  iceServers: IceServer[];
}

export const turnCredential = (secret: string, username: string): string => createHmac('sha1', secret).update(username).digest('base64');

export function turnCredentials(config: CallsConfig, userId: string, now: number): TurnCredentials {
  const expirySec = Math.floor((now + config.turnTtlMs) / 1000);
  const iceServers: IceServer[] = [];
  if (config.stunUrls.length > 0) iceServers.push({ urls: config.stunUrls });
  if (!config.turnSecret || config.turnUrls.length === 0)
    return { username: '', credential: '', ttlMs: config.turnTtlMs, expiresAt: isoMs(expirySec * 1000), iceServers };
  const username = `${expirySec}:${userId}`;
  const credential = turnCredential(config.turnSecret, username);
  iceServers.push({ urls: config.turnUrls, username, credential });
  return { username, credential, ttlMs: config.turnTtlMs, expiresAt: isoMs(expirySec * 1000), iceServers };
}
