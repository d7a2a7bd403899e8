// Which chat messages are votes: `!vote A`, `!A`, and (with CHAT_VOTE_BARE) a bare `A`,
// case-insensitive, surrounding blanks ignored. Anything else is chat. Pure.

const COMMAND = /^!(?:vote\s+)?([a-z])$/i;
const BARE = /^([a-z])$/i;

/** The option key (upper case) a message votes for, or null when it is not a vote. */
export function parseVote(text: string, opts: { bare: boolean }): string | null {
  if (text.length > 32) return null; // a vote is a few characters; skip the regexes for chatter
  const t = text.trim();
  const m = COMMAND.exec(t) ?? (opts.bare ? BARE.exec(t) : null);
  return m ? m[1].toUpperCase() : null;
}

/** The voter id of a platform account: one vote per account per poll. */
export function voterIdOf(platform: string, userId: string): string {
  return `${platform}:${userId}`;
}

/** "!A, !B or !C" for the keys of a poll. */
export function voteCommands(keys: readonly string[]): string {
  const cmds = keys.map((k) => `!${k}`);
  return cmds.length <= 1 ? cmds.join('') : `${cmds.slice(0, -1).join(', ')} or ${cmds[cmds.length - 1]}`;
}
