/**
 * Usernames: one account per name however it is typed, and no name that passes for another.
 *
 * normaliseUsername() is RFC 8265's UsernameCaseMapped profile, in its order: width mapping
 * (fullwidth "ｄｅｍｏ" and halfwidth "ｶﾞｲﾄﾞ" become "demo" and "ガイド"), case mapping with
 * toLowerCase() (RFC 8264 section 9.3 chose it over full case folding), then NFC (the two
 * spellings of "é" become one). Names are stored and looked up in this form only.
 */
export function normaliseUsername(username: string): string {
  return mapWidth(username.trim()).toLowerCase().normalize('NFC');
}

/**
 * The characters whose Unicode decomposition is <wide> or <narrow>: the Halfwidth and Fullwidth
 * Forms block and the ideographic space. Only these get their compatibility mapping (NFKC);
 * NFKC on the whole name would also rewrite "ﬁ", "²" or "Ⅳ", which RFC 8265 leaves alone.
 */
const WIDE_OR_NARROW = /[\u3000\uff01-\uffee]/gu;

function mapWidth(value: string): string {
  return value.replace(WIDE_OR_NARROW, (character) => character.normalize('NFKC'));
}

/**
 * The scripts a name may be written in: Unicode's Recommended and Limited Use scripts for
 * identifiers (UAX #31, tables 5 and 7). Letters of any other script (historic ones, such as
 * Gothic or Linear B) are refused: nobody's name needs them, and they add look-alikes.
 */
const SCRIPTS = [
  'Adlam', 'Arabic', 'Armenian', 'Balinese', 'Bamum', 'Batak', 'Bengali', 'Bopomofo',
  'Canadian_Aboriginal', 'Chakma', 'Cham', 'Cherokee', 'Cyrillic', 'Devanagari', 'Ethiopic',
  'Georgian', 'Greek', 'Gujarati', 'Gurmukhi', 'Han', 'Hangul', 'Hanifi_Rohingya', 'Hebrew',
  'Hiragana', 'Javanese', 'Kannada', 'Katakana', 'Kayah_Li', 'Khmer', 'Lao', 'Latin', 'Lepcha',
  'Limbu', 'Lisu', 'Malayalam', 'Mandaic', 'Meetei_Mayek', 'Miao', 'Mongolian', 'Myanmar',
  'New_Tai_Lue', 'Newa', 'Nko', 'Nyiakeng_Puachue_Hmong', 'Ol_Chiki', 'Oriya', 'Osage',
  'Saurashtra', 'Sinhala', 'Sundanese', 'Syloti_Nagri', 'Syriac', 'Tai_Le', 'Tai_Tham', 'Tai_Viet',
  'Tamil', 'Telugu', 'Thaana', 'Thai', 'Tibetan', 'Tifinagh', 'Vai', 'Wancho', 'Yi',
].map((name) => ({ name, pattern: new RegExp(`^\\p{Script_Extensions=${name}}$`, 'u') })); // prettier-ignore

/** Digits, punctuation and combining marks: shared by every script, so they mix with any. */
const SHARED = /^[\p{Script=Common}\p{Script=Inherited}]$/u;

/**
 * The mixtures Unicode's "Highly Restrictive" level (UTS #39, section 5.2) allows, because whole
 * languages are written that way: Japanese, Chinese with Bopomofo and Korean, each with Latin.
 */
const ALLOWED_MIXTURES = [
  ['Latin', 'Han', 'Hiragana', 'Katakana'],
  ['Latin', 'Han', 'Bopomofo'],
  ['Latin', 'Han', 'Hangul'],
].map((scripts) => new Set(scripts));

/**
 * True when a name is written in one script (digits and punctuation aside), or in one of the
 * mixtures whole languages use: UTS #39's "Highly Restrictive" level. "pаypal" with a Cyrillic
 * "а" is not: it would pass for another person's "paypal".
 */
export function isSingleScript(username: string): boolean {
  const scriptSets: Set<string>[] = [];
  for (const character of username) {
    const scripts = SCRIPTS.filter(({ pattern }) => pattern.test(character)).map(
      ({ name }) => name,
    );
    if (scripts.length > 0) scriptSets.push(new Set(scripts));
    else if (!SHARED.test(character)) return false;
  }
  // One script that every character belongs to (Script_Extensions: a character such as "ー"
  // belongs to both Hiragana and Katakana)...
  const common = scriptSets.reduce<Set<string> | undefined>(
    (shared, scripts) => (shared ? new Set([...shared].filter((s) => scripts.has(s))) : scripts),
    undefined,
  );
  if (!common || common.size > 0) return true;
  // ...or one of the mixtures that covers every character.
  return ALLOWED_MIXTURES.some((mixture) =>
    scriptSets.every((scripts) => [...scripts].some((script) => mixture.has(script))),
  );
}
