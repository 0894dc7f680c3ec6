import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import type { CallToolResult } from '@modelcontextprotocol/sdk/types.js';
import { z } from 'zod';
import { GRANT_META_KEY, type CallerIdentity } from '../mcp/identity';
import { normalizeOrderId, pinMatches, type Order, type ToolData } from './data';
import { searchArticles, timeIn, weatherFor } from './local';
import { refusals } from './refusals';

export interface ToolsServerOptions {
  /** The verified caller of this request (the HTTP handler checked the token). */
  caller: CallerIdentity;
  /** Signs a verification grant for this caller once their PIN matched (the worker upgrades the session). */
  grant?: (customerId: string) => Promise<string>;
  now?: () => number;
  log?: (line: string) => void;
}

export const TOOL_NAMES = [
  'get_order',
  'open_ticket',
  'search_kb',
  'get_time',
  'get_weather',
  'verify_caller',
] as const;

const text = (t: string): CallToolResult => ({ content: [{ type: 'text', text: t }] });
/** A tool-level failure the model should see and talk about (not a protocol error). */
const fail = (t: string): CallToolResult => ({ content: [{ type: 'text', text: t }], isError: true });

/** What the model needs to talk about an order; never more (no payment or address data exists here anyway). */
function describeOrder(o: Order): string {
  return JSON.stringify(o);
}

/**
 * The built-in MCP server: one McpServer per request (the HTTP function is stateless), tools over Table
 * Storage data plus two local ones. Storage failures become isError results so the model can apologise.
 */
export function createToolsServer(data: ToolData, opts: ToolsServerOptions): McpServer {
  const now = opts.now ?? Date.now;
  const log = opts.log ?? (() => {});
  const caller = opts.caller;
  const server = new McpServer({ name: 'voice-agents-builtin', version: '1.0.0' });
  /** Personal data needs a session caller who is a known customer; the refusal says what would change that. */
  const customer = (): { id: string } | { refusal: CallToolResult } => {
    if (!caller.sessionId) return { refusal: fail(refusals.noSession) };
    if (!caller.customerId)
      return { refusal: fail(caller.subject.startsWith('sip:') ? refusals.unverifiedPhone : refusals.unknownCustomer) };
    return { id: caller.customerId };
  };
  /** An order the caller does not own looks exactly like a missing one: existence is not leaked. */
  const ownOrder = async (orderId: string, owner: string) => {
    const order = await data.getOrder(orderId);
    return order && order.customerId === owner ? order : undefined;
  };

  const guarded =
    <A>(name: string, fn: (args: A) => Promise<CallToolResult>) =>
    async (args: A): Promise<CallToolResult> => {
      try {
        return await fn(args);
      } catch (err) {
        log(`tool ${name} failed: ${(err as Error).message}`);
        return fail(`The ${name} backend is temporarily unavailable; try again shortly.`);
      }
    };

  server.registerTool(
    'get_order',
    {
      title: 'Look up an order',
      description: 'Looks up an order by its order number: status, items, total, carrier, tracking and delivery dates.',
      inputSchema: { orderId: z.string().min(1).max(40).describe('The order number the customer gives, e.g. "1234"') },
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    guarded('get_order', async ({ orderId }: { orderId: string }) => {
      const who = customer();
      if ('refusal' in who) return who.refusal;
      const order = await ownOrder(orderId, who.id);
      if (!order) return fail(refusals.noSuchOrder(normalizeOrderId(orderId)));
      return text(describeOrder(order));
    }),
  );

  server.registerTool(
    'open_ticket',
    {
      title: 'Open a support ticket',
      description:
        'Opens a support ticket for a problem the agent cannot solve on the call. Returns the ticket number to read back.',
      inputSchema: {
        orderId: z.string().min(1).max(40).optional().describe('The related order number, if any'),
        summary: z.string().min(5).max(500).describe('One or two sentences describing the problem'),
        priority: z
          .enum(['low', 'normal', 'high'])
          .optional()
          .describe('high for safety issues or orders over a week late'),
      },
      annotations: { readOnlyHint: false, destructiveHint: false, idempotentHint: false, openWorldHint: false },
    },
    guarded(
      'open_ticket',
      async (args: { orderId?: string; summary: string; priority?: 'low' | 'normal' | 'high' }) => {
        const who = customer();
        if ('refusal' in who) return who.refusal;
        let orderId: string | undefined;
        if (args.orderId) {
          const order = await ownOrder(args.orderId, who.id);
          if (!order) return fail(refusals.noTicketForOrder(normalizeOrderId(args.orderId)));
          orderId = order.orderId;
        }
        const ticket = await data.openTicket({
          customerId: who.id,
          agentId: caller.agentId,
          orderId,
          summary: args.summary.trim(),
          priority: args.priority ?? 'normal',
        });
        return text(
          JSON.stringify({
            ticketId: ticket.ticketId,
            status: ticket.status,
            priority: ticket.priority,
            orderId: ticket.orderId ?? null,
            createdAt: ticket.createdAt,
          }),
        );
      },
    ),
  );

  server.registerTool(
    'search_kb',
    {
      title: 'Search the help centre',
      description:
        'Searches the help-centre articles (returns, refunds, shipping, warranty, payment) and returns the best matches.',
      inputSchema: {
        query: z.string().min(2).max(200).describe('What the customer wants to know, in a few words'),
        limit: z.number().int().min(1).max(5).optional().describe('How many articles to return (default 3)'),
      },
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    guarded('search_kb', async ({ query, limit }: { query: string; limit?: number }) => {
      const hits = searchArticles(await data.articles(), query, limit ?? 3);
      if (hits.length === 0)
        return text(`No help-centre article matches "${query}". Say you are not sure rather than guessing.`);
      return text(JSON.stringify({ query, results: hits.map((a) => ({ id: a.id, title: a.title, summary: a.body })) }));
    }),
  );

  server.registerTool(
    'get_time',
    {
      title: 'Current time',
      description:
        'The current local date and time in a timezone (IANA name such as Europe/Paris, or a major city). UTC when omitted.',
      inputSchema: { timezone: z.string().min(1).max(64).optional().describe('IANA timezone, e.g. America/New_York') },
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    async ({ timezone }: { timezone?: string }) => {
      const r = timeIn(timezone, new Date(now()));
      return r.ok ? text(r.text) : fail(r.error);
    },
  );

  server.registerTool(
    'get_weather',
    {
      title: 'Current weather',
      description: 'Current conditions and a short forecast for a city, from the bundled weather data set.',
      inputSchema: { city: z.string().min(1).max(80).describe('City name, e.g. "Paris" or "New York"') },
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    async ({ city }: { city: string }) => {
      const r = weatherFor(city);
      return r.ok ? text(r.text) : fail(r.error);
    },
  );

  server.registerTool(
    'verify_caller',
    {
      title: 'Verify a phone caller',
      description:
        'Checks the account PIN a phone caller gives against the number they are calling from. Orders and tickets ' +
        'become available once it succeeds.',
      inputSchema: { pin: z.string().min(4).max(12).describe('The PIN exactly as the caller says it, digits only') },
      annotations: { readOnlyHint: true, openWorldHint: false },
    },
    guarded('verify_caller', async ({ pin }: { pin: string }) => {
      if (!caller.sessionId) return fail(refusals.noSession);
      if (caller.customerId) return text(JSON.stringify({ verified: true, note: 'The caller is already verified.' }));
      const number = caller.subject.startsWith('sip:') ? caller.subject.slice(4) : '';
      if (!/^\+?[0-9]{3,20}$/.test(number)) return fail(refusals.withheldNumber);
      const found = await data.customerByPhone(number);
      if (!found || !pinMatches(found, pin.replace(/[^0-9]/g, ''))) return fail(refusals.wrongPin);
      const grant = await opts.grant?.(found.customerId);
      return {
        content: [{ type: 'text', text: JSON.stringify({ verified: true, customer: found.firstName }) }],
        ...(grant ? { _meta: { [GRANT_META_KEY]: grant } } : {}),
      };
    }),
  );

  return server;
}
