// The four WireGuard messages (WireGuard paper, section 5.4; wireguard-go's
// device/noise-protocol.go): their type codes, sizes and field offsets, written once.
// Every multi-byte integer is little-endian. Each message starts with a type byte and
// three zero bytes.

export const MESSAGE_INITIATION = 1;
export const MESSAGE_RESPONSE = 2;
export const MESSAGE_COOKIE_REPLY = 3;
export const MESSAGE_TRANSPORT = 4;

/** Handshake initiation: sender index, ephemeral key, sealed static key, sealed timestamp, mac1, mac2. */
export const INITIATION = {
  size: 148,
  sender: 4,
  ephemeral: 8,
  static: 40, // 32 + 16-byte tag
  timestamp: 88, // 12 + 16-byte tag
  mac1: 116,
  mac2: 132,
} as const;

/** Handshake response: sender and receiver indexes, ephemeral key, sealed empty payload, mac1, mac2. */
export const RESPONSE = {
  size: 92,
  sender: 4,
  receiver: 8,
  ephemeral: 12,
  empty: 44, // 0 + 16-byte tag
  mac1: 60,
  mac2: 76,
} as const;

/** Cookie reply: receiver index, 24-byte nonce, sealed 16-byte cookie. */
export const COOKIE_REPLY = {
  size: 64,
  receiver: 4,
  nonce: 8,
  cookie: 32, // 16 + 16-byte tag
} as const;

/** Transport data: receiver index, 64-bit counter, then the sealed packet (padded to 16) and its tag. */
export const TRANSPORT = {
  headerSize: 16,
  receiver: 4,
  counter: 8,
  /** Header plus the tag of an empty (keepalive) packet. */
  minSize: 32,
} as const;

/** Plaintext packets are zero-padded to a multiple of this before sealing. */
export const PADDING_MULTIPLE = 16;

/** The message's type code (first byte; the three reserved bytes must be zero). 0 when malformed. */
export function messageType(buf: Uint8Array, offset: number, length: number): number {
  if (length < 4 || buf[offset + 1] !== 0 || buf[offset + 2] !== 0 || buf[offset + 3] !== 0) return 0;
  return buf[offset];
}

export function readU32(buf: Uint8Array, offset: number): number {
  return (buf[offset] | (buf[offset + 1] << 8) | (buf[offset + 2] << 16) | (buf[offset + 3] << 24)) >>> 0;
}

export function writeU32(buf: Uint8Array, offset: number, value: number): void {
  buf[offset] = value;
  buf[offset + 1] = value >>> 8;
  buf[offset + 2] = value >>> 16;
  buf[offset + 3] = value >>> 24;
}

/** Writes a type byte and three zero bytes. */
export function writeType(buf: Uint8Array, offset: number, type: number): void {
  writeU32(buf, offset, type);
}
