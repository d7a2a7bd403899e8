// The IRC subset Twitch speaks (IRCv3 message tags, RFC 1459 lines), parsed by hand: the
// bridge reads thousands of lines a second and needs nothing but the tags, the command and
// the trailing text. Pure; no I/O.

/** Twitch allows 8191 bytes of tags plus a 512-byte IRC line; anything longer is not Twitch's. */
export const MAX_LINE = 8192 + 512;

export interface IrcMessage {
  tags: Record<string, string>;
  /** `nick!user@host` or a server name, without the colon; '' when absent. */
  prefix: string;
  command: string;
  params: string[];
}

const TAG_ESCAPES: Record<string, string> = { ':': ';', s: ' ', '\\': '\\', r: '\r', n: '\n' };

function unescapeTag(v: string): string {
  if (!v.includes('\\')) return v;
  return v.replace(/\\(.?)/g, (_m, c: string) => TAG_ESCAPES[c] ?? c);
}

/** Parses one line (without CR LF); null when it is empty, too long or not IRC. */
export function parseIrcLine(line: string, maxLength = MAX_LINE): IrcMessage | null {
  if (!line || line.length > maxLength) return null;
  let i = 0;
  const tags: Record<string, string> = {};
  if (line[0] === '@') {
    const end = line.indexOf(' ');
    if (end < 0) return null;
    for (const part of line.slice(1, end).split(';')) {
      if (!part) continue;
      const eq = part.indexOf('=');
      if (eq < 0) tags[part] = '';
      else tags[part.slice(0, eq)] = unescapeTag(part.slice(eq + 1));
    }
    i = end + 1;
    while (line[i] === ' ') i++;
  }
  let prefix = '';
  if (line[i] === ':') {
    const end = line.indexOf(' ', i);
    if (end < 0) return null;
    prefix = line.slice(i + 1, end);
    i = end + 1;
    while (line[i] === ' ') i++;
  }
  const params: string[] = [];
  let command = '';
  while (i < line.length) {
    if (line[i] === ':' && command) {
      params.push(line.slice(i + 1));
      break;
    }
    let end = line.indexOf(' ', i);
    if (end < 0) end = line.length;
    const word = line.slice(i, end);
    if (!command) command = word.toUpperCase();
    else params.push(word);
    i = end + 1;
    while (line[i] === ' ') i++;
  }
  if (!/^([A-Z]+|\d{3})$/.test(command)) return null;
  return { tags, prefix, command, params };
}

/** The nick of a `nick!user@host` prefix. */
export function nickOf(prefix: string): string {
  const bang = prefix.indexOf('!');
  return (bang < 0 ? prefix : prefix.slice(0, bang)).toLowerCase();
}

/** A PRIVMSG line for `say`: CR/LF removed (one line, never a second command), bounded to Twitch's 500 characters. */
export function privmsg(channel: string, text: string): string {
  const clean = text.replace(/[\r\n]+/g, ' ').trim();
  const bounded = [...clean].length > 500 ? `${[...clean].slice(0, 499).join('')}…` : clean;
  return `PRIVMSG #${channel} :${bounded}`;
}
