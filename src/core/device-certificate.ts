import { X509Certificate } from 'node:crypto';

/** The identity a client certificate names: its subject's CN. */
export function certificateIdentity(certificate: X509Certificate): string | undefined {
  const cn = certificate.subject.split('\n').find((part) => part.startsWith('CN='));
  return cn?.slice('CN='.length);
}

/**
 * Whether a client certificate is valid now and issued by one of the CAs of `pki.client_ca`. The
 * CAs are read from the settings on every connection, so changing them needs no restart; the
 * certificate must be issued directly by one of them (no intermediate chain).
 */
export function issuedByClientCa(certificate: X509Certificate, caPems: string[], now = new Date()): boolean {
  if (new Date(certificate.validFrom) > now || new Date(certificate.validTo) < now) return false;
  return caPems.some((pem) => {
    try {
      const ca = new X509Certificate(pem);
      return certificate.checkIssued(ca) && certificate.verify(ca.publicKey);
    } catch {
      return false;
    }
  });
}
