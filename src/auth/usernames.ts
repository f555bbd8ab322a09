/**
 * One account per name however it is typed: NFC folds the two Unicode spellings of "é" into one,
 * lower case folds "Alice" into "alice". Stored and looked up in this form only.
 */
export function normaliseUsername(username: string): string {
  return username.trim().toLowerCase().normalize('NFC');
}
