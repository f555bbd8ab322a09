import QRCode from 'qrcode';

/**
 * A QR code as inline SVG, drawn here on the server with the qrcode package (the most used,
 * maintained QR encoder for Node; MIT): no outside service ever sees the secret it carries, the
 * page needs no script, and the Content-Security-Policy needs no `data:` images (SVG's fill and
 * stroke are attributes, not styles). Named for screen readers, which cannot scan it: the page
 * gives the key as text beside it.
 */
export async function qrCodeSvg(text: string, label: string): Promise<string> {
  const svg = await QRCode.toString(text, { type: 'svg', margin: 2, errorCorrectionLevel: 'M' });
  const name = label.replace(/[&<>"]/g, (c) => `&#${c.charCodeAt(0)};`);
  return svg.replace('<svg ', `<svg role="img" aria-label="${name}" class="qr-code" `);
}
