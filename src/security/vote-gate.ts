// Who votes and how many votes an address may have counted. REST and socket.io share it:
// - identity: a trusted caller's (bearer token) `voterId`, else the signed `sf_voter` cookie;
//   a request without one gets a new identity, spending the address's new-voter budget;
// - count: at most LIMIT_VOTES_PER_POLL counted votes per address per poll (trusted callers,
//   such as a chat bridge voting for many platform accounts, are exempt). A vote that is not
//   counted (already voted, unknown option) gives its unit back.
import type http from 'node:http';
import type { Request, Response } from 'express';
import { AppError } from '../errors.js';
import type { Budgets } from './budgets.js';
import { hasToken } from './trust.js';
import { voterSetCookie, type VoterIdentity } from './voters.js';

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
}

export class VoteGate {
  constructor(private readonly d: VoteGateDeps) {}

  /** The REST voter: sets the cookie when it issues a new identity. */
  async identify(req: Request, res: Response, bodyVoterId: string | undefined): Promise<Voter> {
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
    const cookie = await this.issue(address, trusted);
    res.append('Set-Cookie', voterSetCookie(cookie.cookie, req.secure));
    return { voterId: cookie.voterId, trusted, address };
  }

  /** The voter of a socket.io handshake (the cookie it brought, else a new one); null when over budget. */
  async identifyHandshake(req: http.IncomingMessage, address: string): Promise<{ voterId: string; setCookie?: string } | null> {
    const known = this.d.identity.fromCookieHeader(req.headers.cookie);
    if (known) return { voterId: known };
    try {
      const m = await this.issue(address, false);
      return { voterId: m.voterId, setCookie: voterSetCookie(m.cookie, false) };
    } catch (err) {
      if (err instanceof AppError && err.status === 429) return null;
      throw err;
    }
  }

  private async issue(address: string, trusted: boolean) {
    if (!trusted) await this.d.budgets.take('voters', address);
    return this.d.identity.mint();
  }

  /** Runs `count` (the poll service's vote) within the voter's address budget for the open poll. */
  async cast<T>(voter: Pick<Voter, 'trusted' | 'address'>, count: () => Promise<T>): Promise<T> {
    if (voter.trusted) return count();
    const pollId = await this.d.currentPollId();
    if (pollId === null) return count(); // answers "no poll" in its own words
    const key = `${pollId}:${voter.address}`;
    await this.d.budgets.take('votes', key, voter.address);
    try {
      return await count();
    } catch (err) {
      await this.d.budgets.giveBack('votes', key);
      throw err;
    }
  }
}
