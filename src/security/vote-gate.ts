// Who votes and how many votes an address may have counted. REST and socket.io share it:
// - identity: a trusted caller's (bearer token) `voterId`, else the signed `sf_voter` cookie;
//   a request without one gets a new identity, spending the address's new-voter budget;
// - count: at most LIMIT_VOTES_PER_POLL counted votes per address per poll (trusted callers,
//   such as a chat bridge voting for many platform accounts, are exempt). A vote that is not
//   counted (already voted, unknown option) gives its unit back.
// A REST vote from a new browser spends both budgets (new voter, then vote) in one Redis call
// (Budgets.takeAll): `identify` only mints the identity, `cast` spends and sets the cookie.
import type http from 'node:http';
import type { Request, Response } from 'express';
import { AppError } from '../errors.js';
import type { Budgets } from './budgets.js';
import { hasToken } from './trust.js';
import { voterSetCookie, type VoterIdentity } from './voters.js';

const isOver = (err: unknown, budget: string) =>
  err instanceof AppError && err.status === 429 && (err.details as { budget?: string } | undefined)?.budget === budget;

export interface VoteGateDeps {
  identity: VoterIdentity;
  budgets: Budgets;
  token: string | undefined;
  /** Id of the open poll (the vote budget is per poll), or null when none is open. */
  currentPollId: () => Promise<string | number | null>;
}

export interface Voter {
  voterId: string;
  /** A token holder: its own voter ids, no per-address vote budget. */
  trusted: boolean;
  address: string;
  /** A new identity, not yet paid for: `cast` spends the new-voter budget, then sends the cookie. */
  issued?: { setCookie: () => void };
}

export class VoteGate {
  constructor(private readonly d: VoteGateDeps) {}

  /** The REST voter; a new identity's cookie goes out once `cast` has spent its new-voter budget. */
  identify(req: Request, res: Response, bodyVoterId: string | undefined): Voter {
    const trusted = hasToken(req, this.d.token);
    const address = req.ip ?? 'unknown';
    if (bodyVoterId !== undefined) {
      if (!trusted) {
        throw new AppError(403, 'forbidden', 'voterId is accepted only with the bearer token (integrations); a browser is identified by its sf_voter cookie', { field: 'voterId' });
      }
      return { voterId: bodyVoterId, trusted, address };
    }
    const known = this.d.identity.fromCookieHeader(req.headers.cookie);
    if (known) return { voterId: known, trusted, address };
    const minted = this.d.identity.mint();
    const setCookie = () => void res.append('Set-Cookie', voterSetCookie(minted.cookie, req.secure));
    // A trusted caller's new identity spends no budget.
    if (trusted) setCookie();
    return { voterId: minted.voterId, trusted, address, issued: trusted ? undefined : { setCookie } };
  }

  /** The voter of a socket.io handshake (the cookie it brought, else a new one); null when over budget. */
  async identifyHandshake(req: http.IncomingMessage, address: string): Promise<{ voterId: string; setCookie?: string } | null> {
    const known = this.d.identity.fromCookieHeader(req.headers.cookie);
    if (known) return { voterId: known };
    try {
      await this.d.budgets.take('voters', address);
      const m = this.d.identity.mint();
      return { voterId: m.voterId, setCookie: voterSetCookie(m.cookie, false) };
    } catch (err) {
      if (err instanceof AppError && err.status === 429) return null;
      throw err;
    }
  }

  /**
   * Runs `count` (the poll service's vote) within the voter's address budget for the open poll,
   * after a new identity's new-voter budget: both in one Redis call. Over the new-voter budget:
   * 429 and no identity; over the vote budget: 429, and the identity (paid for) is kept.
   */
  async cast<T>(voter: Pick<Voter, 'trusted' | 'address' | 'issued'>, count: () => Promise<T>): Promise<T> {
    if (voter.trusted) return count();
    const pollId = await this.d.currentPollId();
    const key = `${pollId}:${voter.address}`;
    try {
      await this.d.budgets.takeAll([
        ...(voter.issued ? [{ name: 'voters' as const, key: voter.address }] : []),
        // No open poll: no vote budget; `count` answers "no poll" in its own words.
        ...(pollId === null ? [] : [{ name: 'votes' as const, key, address: voter.address }]),
      ]);
    } catch (err) {
      if (isOver(err, 'votes')) voter.issued?.setCookie();
      throw err;
    }
    voter.issued?.setCookie();
    if (pollId === null) return count();
    try {
      return await count();
    } catch (err) {
      await this.d.budgets.giveBack('votes', key);
      throw err;
    }
  }
}
