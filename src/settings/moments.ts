const relativeTime = new Intl.RelativeTimeFormat('en', { numeric: 'auto' });
const UNITS: [Intl.RelativeTimeFormatUnit, number][] = [
  ['day', 86_400_000],
  ['hour', 3_600_000],
  ['minute', 60_000],
];

/** A moment as the page shows it: "5 minutes ago", and the exact time for the tooltip. */
export function when(date: Date, now: number) {
  const elapsed = now - date.getTime();
  const [unit, size] = UNITS.find(([, ms]) => elapsed >= ms) ?? ['second', 1000];
  const relative =
    elapsed < 60_000 ? 'just now' : relativeTime.format(-Math.floor(elapsed / size), unit);
  return { relative, exact: date.toUTCString(), iso: date.toISOString() };
}
