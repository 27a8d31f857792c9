// go-plugin's automatic mutual TLS: Terraform passes its client certificate in PLUGIN_CLIENT_CERT and trusts the one
// certificate the plugin prints in its handshake line. Ours is made fresh at each start, as go-plugin's own servers
// do: self-signed, for "localhost" (the server name Terraform checks), usable as server and client, valid as its own
// CA, with an ECDSA P-256 key. Node has no certificate writer, so the few DER structures an X.509 v3 certificate
// needs are written here; the key pair and the signature come from Node's native crypto (an RSA key made in
// JavaScript costs seconds on a busy host, and Terraform starts the provider several times per command).
import { generateKeyPairSync, randomBytes, sign } from 'node:crypto';

export interface ServerCertificate {
  certPem: string;
  keyPem: string;
  /** The DER bytes, base64 without padding: the handshake line's last field. */
  handshakeField: string;
}

// ---- DER --------------------------------------------------------------------------------------------------

function length(n: number): Buffer {
  if (n < 0x80) return Buffer.from([n]);
  const bytes: number[] = [];
  for (let v = n; v > 0; v >>= 8) bytes.unshift(v & 0xff);
  return Buffer.from([0x80 | bytes.length, ...bytes]);
}

const tlv = (tag: number, body: Buffer): Buffer => Buffer.concat([Buffer.from([tag]), length(body.length), body]);
const seq = (...items: Buffer[]) => tlv(0x30, Buffer.concat(items));
const set = (...items: Buffer[]) => tlv(0x31, Buffer.concat(items));
const octets = (b: Buffer) => tlv(0x04, b);
const bits = (b: Buffer, unused = 0) => tlv(0x03, Buffer.concat([Buffer.from([unused]), b]));
const utf8 = (s: string) => tlv(0x0c, Buffer.from(s, 'utf8'));
const bool = (v: boolean) => tlv(0x01, Buffer.from([v ? 0xff : 0x00]));
const explicit = (n: number, body: Buffer) => tlv(0xa0 | n, body);

function integer(b: Buffer): Buffer {
  return tlv(0x02, b);
}

function oid(dotted: string): Buffer {
  const parts = dotted.split('.').map(Number);
  const out: number[] = [40 * parts[0]! + parts[1]!];
  for (const p of parts.slice(2)) {
    const chunk: number[] = [p & 0x7f];
    for (let v = p >> 7; v > 0; v >>= 7) chunk.unshift(0x80 | (v & 0x7f));
    out.push(...chunk);
  }
  return tlv(0x06, Buffer.from(out));
}

/** UTCTime before 2050, GeneralizedTime from then on (RFC 5280 4.1.2.5). */
function time(d: Date): Buffer {
  const iso = d.toISOString().replace(/[-:T]/g, '').slice(0, 14); // YYYYMMDDHHMMSS
  return d.getUTCFullYear() < 2050 ? tlv(0x17, Buffer.from(`${iso.slice(2)}Z`)) : tlv(0x18, Buffer.from(`${iso}Z`));
}

function extension(id: string, critical: boolean, value: Buffer): Buffer {
  return critical ? seq(oid(id), bool(true), octets(value)) : seq(oid(id), octets(value));
}

// ---- the certificate --------------------------------------------------------------------------------------

const ECDSA_WITH_SHA256 = '1.2.840.10045.4.3.2';

export function makeServerCertificate(now = new Date()): ServerCertificate {
  const { privateKey, publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  // A positive, minimally encoded 128-bit serial: top bit clear, next bit set.
  const serial = randomBytes(16);
  serial[0] = (serial[0]! & 0x7f) | 0x40;
  const name = seq(set(seq(oid('2.5.4.10'), utf8('kiln'))), set(seq(oid('2.5.4.3'), utf8('localhost'))));
  const algorithm = seq(oid(ECDSA_WITH_SHA256));
  const extensions = seq(
    extension('2.5.29.19', true, seq(bool(true))), // basicConstraints: CA
    // keyUsage: digitalSignature, keyEncipherment, keyAgreement, keyCertSign (bits 0, 2, 4, 5).
    extension('2.5.29.15', true, bits(Buffer.from([0xac]), 2)),
    extension('2.5.29.37', false, seq(oid('1.3.6.1.5.5.7.3.1'), oid('1.3.6.1.5.5.7.3.2'))), // serverAuth, clientAuth
    extension('2.5.29.17', false, seq(tlv(0x82, Buffer.from('localhost')))), // subjectAltName: dNSName
  );
  const tbs = seq(
    explicit(0, integer(Buffer.from([2]))), // v3
    integer(serial),
    algorithm,
    name,
    seq(time(new Date(now.getTime() - 30_000)), time(new Date(now.getTime() + 10 * 365 * 24 * 3600_000))),
    name,
    publicKey.export({ type: 'spki', format: 'der' }),
    explicit(3, extensions),
  );
  const signature = sign('sha256', tbs, privateKey); // DER-encoded ECDSA signature
  const der = seq(tbs, algorithm, bits(signature));
  const b64 = der.toString('base64');
  return {
    certPem: `-----BEGIN CERTIFICATE-----\n${b64.replace(/.{1,64}/g, '$&\n')}-----END CERTIFICATE-----\n`,
    keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    handshakeField: b64.replace(/=+$/, ''),
  };
}
