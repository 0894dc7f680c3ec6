import { z } from 'zod';

/**
 * Faults a test switches on (by API or `POST /_emulator/faults`). Counted faults (`times`) switch themselves
 * off after that many hits; `drop` is applied once, when set.
 */
export const faultSpecSchema = z.object({
  /** Answer matching REST calls with this status (429 carries Retry-After). `match` is a substring of the path. */
  rest: z
    .object({
      status: z.number().int().min(400).max(599),
      times: z.number().int().min(1).optional(),
      retryAfterSeconds: z.number().int().min(0).optional(),
      match: z.string().optional(),
    })
    .optional(),
  /** Added before every REST answer and before each response starts streaming. */
  delayMs: z.number().int().min(0).max(60_000).optional(),
  /** `POST …/calls/{id}/accept` fails with this status. */
  rejectAccept: z
    .object({ status: z.number().int().min(400).max(599).default(500), times: z.number().int().min(1).optional() })
    .optional(),
  /** Close the WebSockets (and data channels) of one call or session — or of all — right now. */
  drop: z
    .object({
      callId: z.string().optional(),
      sessionId: z.string().optional(),
      code: z.number().int().min(1000).max(4999).default(1011),
    })
    .optional(),
});

export type FaultSpec = z.input<typeof faultSpecSchema>;
type Parsed = z.output<typeof faultSpecSchema>;

export class Faults {
  private spec: Omit<Parsed, 'drop'> = {};

  constructor(private readonly onDrop: (d: NonNullable<Parsed['drop']>) => void) {}

  set(f: FaultSpec): void {
    const parsed = faultSpecSchema.parse(f);
    const { drop, ...rest } = parsed;
    this.spec = { ...this.spec, ...rest };
    if (drop) this.onDrop(drop);
  }

  clear(): void {
    this.spec = {};
  }

  get delayMs(): number {
    return this.spec.delayMs ?? 0;
  }

  /** The injected REST failure for this path, if any (and counts it). */
  restFailure(path: string): { status: number; retryAfterSeconds?: number } | undefined {
    const r = this.spec.rest;
    if (!r || (r.match && !path.includes(r.match))) return undefined;
    if (r.times !== undefined) {
      if (r.times <= 1) this.spec.rest = undefined;
      else this.spec.rest = { ...r, times: r.times - 1 };
    }
    return { status: r.status, retryAfterSeconds: r.retryAfterSeconds ?? (r.status === 429 ? 1 : undefined) };
  }

  acceptFailure(): number | undefined {
    const r = this.spec.rejectAccept;
    if (!r) return undefined;
    if (r.times !== undefined) {
      if (r.times <= 1) this.spec.rejectAccept = undefined;
      else this.spec.rejectAccept = { ...r, times: r.times - 1 };
    }
    return r.status;
  }
}
