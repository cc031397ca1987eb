// WireGuard's protocol constants (paper, section 6; wireguard-go's device/constants.go),
// in milliseconds and message counts. A transport takes them as one object so tests can
// shorten the timers; DEFAULT_TIMERS are the protocol's own values.

export interface WireGuardTimers {
  /** An initiator starts a new handshake once its current keys are this old. */
  rekeyAfterTime: number;
  /** No keys are used to send or receive once they are this old. */
  rejectAfterTime: number;
  /** A handshake is retried for this long before packets waiting for it are dropped. */
  rekeyAttemptTime: number;
  /** An unanswered initiation is sent again after this (plus up to rekeyTimeoutJitter). */
  rekeyTimeout: number;
  rekeyTimeoutJitter: number;
  /** A peer that received data and sent nothing for this long sends a keepalive. */
  keepaliveTimeout: number;
  /** The cookie secret changes, and a received cookie expires, after this. */
  cookieRefreshTime: number;
  /** Initiations from one peer closer together than this are ignored (flood protection). */
  handshakeInitiationRate: number;
  /** An initiator starts a new handshake after sending this many messages under one key. */
  rekeyAfterMessages: number;
  /** Keys are not used past this many messages. */
  rejectAfterMessages: number;
}

export const DEFAULT_TIMERS: Readonly<WireGuardTimers> = Object.freeze({
  rekeyAfterTime: 120_000,
  rejectAfterTime: 180_000,
  rekeyAttemptTime: 90_000,
  rekeyTimeout: 5_000,
  rekeyTimeoutJitter: 334,
  keepaliveTimeout: 10_000,
  cookieRefreshTime: 120_000,
  handshakeInitiationRate: 20,
  rekeyAfterMessages: 2 ** 60,
  // 2^64 - 2^13 - 1 in the protocol; counters are exact numbers only below 2^53, which no
  // sender reaches within rejectAfterTime, so this bound is the same in practice.
  rejectAfterMessages: 2 ** 53 - 1,
});
