/**
 * `Mmm dd HH:MM:SS` in local time (the TZ environment variable), as ctime()+4 gives it:
 * the day padded with a space. Cached per second: lines come in bursts of one second.
 */
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

let cachedSec = NaN;
let cachedText = '';

const two = (n: number): string => (n < 10 ? '0' + n : String(n));

export function stamp(sec: number): string {
  if (sec === cachedSec) return cachedText;
  const d = new Date(sec * 1000);
  const day = d.getDate();
  cachedText = `${MONTHS[d.getMonth()]} ${day < 10 ? ' ' + day : day} ${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
  cachedSec = sec;
  return cachedText;
}

/** HH:MM:SS of a Unix time in local time (the ICMP timestamp-reply line). */
export function clockTime(sec: number): string {
  const d = new Date(sec * 1000);
  return `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
}
