/**
 * What a new passkey is called until its owner renames it: the name of the password manager or
 * device that made it, from the AAGUID the authenticator reports (a model id, the same for
 * every user of it), or "Passkey N". A few well-known ones only; the full list is the FIDO
 * Alliance's metadata service, more than a starter should fetch and trust.
 */
const KNOWN: Record<string, string> = {
  'ea9b8d66-4d01-1d21-3ce4-b6b48cb575d4': 'Google Password Manager',
  'adce0002-35bc-c60a-648b-0b25f1f05503': 'Chrome on Mac',
  'fbfc3007-154e-4ecc-8c0b-6e020557d7bd': 'iCloud Keychain',
  '08987058-cadc-4b81-b6e1-30de50dcbe96': 'Windows Hello',
  '9ddd1817-af5a-4672-a2b9-3e3dd95000a9': 'Windows Hello',
  '6028b017-b1d4-4c02-b4b3-afcdafc96bb2': 'Windows Hello',
  'bada5566-a7aa-401f-bd96-45619a55120d': '1Password',
  'd548826e-79b4-db40-a3d8-11116f7e8349': 'Bitwarden',
  'cb69481e-8ff7-4039-93ec-0a2729a154a8': 'YubiKey 5',
  'ee882879-721c-4913-9775-3dfcce97072a': 'YubiKey 5',
};

export function defaultPasskeyName(aaguid: string, existing: readonly string[]): string {
  const known = KNOWN[aaguid.toLowerCase()];
  if (known && !existing.includes(known)) return known;
  for (let n = existing.length + 1; ; n++) {
    const name = known ? `${known} ${n}` : `Passkey ${n}`;
    if (!existing.includes(name)) return name;
  }
}
