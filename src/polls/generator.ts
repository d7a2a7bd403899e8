// Where new polls come from: a built-in bank, or an OpenAI-compatible chat-completions API
// (OpenRouter by default) when OPENROUTER_API_KEY is set, falling back to the bank on any
// failure so a stream never waits on a provider. The key is never logged.
import { z } from 'zod';
import { log, errMessage } from '../logger.js';
import { POLL_BANK } from './bank.js';
import { MAX_OPTIONS, MIN_OPTIONS, type PollDraft } from './types.js';

const logger = log('POLL');

export interface PollGenerator {
  /** A new poll; never the same question as `previousQuestion`. */
  generate(previousQuestion?: string): Promise<PollDraft>;
}

/** A poll draft as we accept it, from an API body or a model's answer. */
export const draftSchema = z
  .object({
    question: z.string().trim().min(3).max(200),
    options: z.array(z.string().trim().min(1).max(60)).min(MIN_OPTIONS).max(MAX_OPTIONS),
  })
  .refine((d) => new Set(d.options.map((o) => o.toLowerCase())).size === d.options.length, {
    message: 'options must be different',
    path: ['options'],
  });

export class BuiltinGenerator implements PollGenerator {
  private last: string | undefined;

  constructor(
    private readonly bank: readonly PollDraft[] = POLL_BANK,
    private readonly random: () => number = Math.random,
  ) {
    if (bank.length < 2) throw new Error('the poll bank needs at least two polls');
  }

  async generate(previousQuestion?: string): Promise<PollDraft> {
    const avoid = new Set([previousQuestion, this.last].filter((q): q is string => !!q));
    const choices = this.bank.filter((d) => !avoid.has(d.question));
    const pool = choices.length ? choices : this.bank;
    const pick = pool[Math.floor(this.random() * pool.length) % pool.length];
    this.last = pick.question;
    return { question: pick.question, options: [...pick.options] };
  }
}

export interface ChatGeneratorOptions {
  apiKey: string;
  baseUrl: string;
  model: string;
  /** Whole request budget (default 5000 ms). */
  timeoutMs?: number;
  fallback?: PollGenerator;
}

const completionSchema = z.object({
  choices: z
    .array(z.object({ message: z.object({ content: z.string().min(1) }) }))
    .min(1),
});

/** The first JSON object in a model's answer (it may wrap it in prose or ``` fences). */
export function extractJson(text: string): unknown {
  const start = text.indexOf('{');
  const end = text.lastIndexOf('}');
  if (start < 0 || end <= start) throw new Error('no JSON object in the answer');
  return JSON.parse(text.slice(start, end + 1));
}

const SYSTEM_PROMPT =
  'You write live polls for a fighting-game stream. Answer with JSON only: ' +
  `{"question": string (max 120 characters), "options": array of ${MIN_OPTIONS} to ${MAX_OPTIONS} short distinct strings (max 40 characters)}. ` +
  'Matchups ("Who wins: X or Y?") and fun community questions. No explanations.';

export class ChatCompletionsGenerator implements PollGenerator {
  private readonly timeoutMs: number;
  private readonly fallback: PollGenerator;

  constructor(private readonly opts: ChatGeneratorOptions) {
    this.timeoutMs = opts.timeoutMs ?? 5000;
    this.fallback = opts.fallback ?? new BuiltinGenerator();
  }

  async generate(previousQuestion?: string): Promise<PollDraft> {
    try {
      const draft = await this.ask(previousQuestion);
      if (previousQuestion && draft.question === previousQuestion) throw new Error('the model repeated the last question');
      return draft;
    } catch (err) {
      logger.warn(`poll generator (${this.opts.model}) failed, using the built-in bank: ${errMessage(err)}`);
      return this.fallback.generate(previousQuestion);
    }
  }

  private async ask(previousQuestion?: string): Promise<PollDraft> {
    const url = `${this.opts.baseUrl.replace(/\/+$/, '')}/chat/completions`;
    const user = previousQuestion
      ? `Write a new poll. Do not repeat this one: ${JSON.stringify(previousQuestion)}`
      : 'Write a new poll.';
    const res = await fetch(url, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${this.opts.apiKey}`,
        'content-type': 'application/json',
        'x-title': 'Stream Fighter',
      },
      body: JSON.stringify({
        model: this.opts.model,
        temperature: 0.9,
        max_tokens: 300,
        messages: [
          { role: 'system', content: SYSTEM_PROMPT },
          { role: 'user', content: user },
        ],
      }),
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    if (!res.ok) {
      await res.body?.cancel().catch(() => undefined);
      throw new Error(`HTTP ${res.status} from the provider`);
    }
    const body = completionSchema.safeParse(await res.json());
    if (!body.success) throw new Error('the provider answered without a message (unexpected response shape)');
    const parsed = draftSchema.safeParse(extractJson(body.data.choices[0].message.content));
    if (!parsed.success) throw new Error(`the answer is not a poll: ${parsed.error.issues.map((i) => i.message).join('; ')}`);
    return parsed.data;
  }
}

export interface GeneratorConfig {
  OPENROUTER_API_KEY?: string;
  OPENROUTER_BASE_URL: string;
  OPENROUTER_MODEL: string;
}

/** The chat generator when a key is configured, the bank otherwise. */
export function createGenerator(cfg: GeneratorConfig, opts: { timeoutMs?: number } = {}): PollGenerator {
  const bank = new BuiltinGenerator();
  if (!cfg.OPENROUTER_API_KEY) return bank;
  logger.info(`polls generated by ${cfg.OPENROUTER_MODEL} at ${cfg.OPENROUTER_BASE_URL} (built-in bank as fallback)`);
  return new ChatCompletionsGenerator({
    apiKey: cfg.OPENROUTER_API_KEY,
    baseUrl: cfg.OPENROUTER_BASE_URL,
    model: cfg.OPENROUTER_MODEL,
    timeoutMs: opts.timeoutMs,
    fallback: bank,
  });
}
