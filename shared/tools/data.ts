import { createHash, randomInt, timingSafeEqual } from 'node:crypto';
import { odata, type TableClient, type TableEntity } from '@azure/data-tables';
import { isStorageStatus, tableClient, TABLES, type StorageConfig } from '../storage/tables';
import customerSeed from './seed/customers.json';
import knowledgeSeed from './seed/knowledge.json';
import orderSeed from './seed/orders.json';

/** Orders, tickets and help-centre articles in Table Storage: the data behind the built-in MCP tools. */

export interface OrderItem {
  sku: string;
  name: string;
  qty: number;
  price: number;
}

export interface Order {
  orderId: string;
  /** The customer who owns the order: only they (signed in, or a verified phone caller) may see it. */
  customerId: string;
  customerFirstName: string;
  status: 'processing' | 'shipped' | 'delivered' | 'cancelled' | 'returned';
  placedAt: string;
  items: OrderItem[];
  total: number;
  currency: string;
  carrier?: string;
  trackingNumber?: string;
  estimatedDelivery?: string;
  deliveredAt?: string;
  refund?: { amount: number; issuedAt: string };
  note?: string;
}

export interface Ticket {
  ticketId: string;
  /** The customer the ticket was opened for. */
  customerId: string;
  orderId?: string;
  summary: string;
  priority: 'low' | 'normal' | 'high';
  status: 'open';
  createdAt: string;
  agentId?: string;
}

export interface Article {
  id: string;
  title: string;
  tags: string[];
  body: string;
}

/** A customer as phone verification sees them: the number on file and a salted hash of their PIN. */
export interface Customer {
  customerId: string;
  firstName: string;
  phone: string;
  pinHash: string;
}

const ORDER_PK = 'order';
/** Customers live beside their orders (same table): the shop's own data, read only by the built-in server. */
const CUSTOMER_PK = 'customer';
const TICKET_PK = 'ticket';
const KB_PK = 'kb';

/** Order numbers as people say them: "#1234", "order 1234", "12-34" all mean 1234. */
export const normalizeOrderId = (raw: string) =>
  raw
    .replace(/^\s*(order\s*)?#?/i, '')
    .replace(/[\s-]/g, '')
    .toUpperCase();

export const pinHash = (customerId: string, pin: string) =>
  createHash('sha256').update(`${customerId}:${pin.trim()}`).digest('base64url');

/** Constant-time PIN check against the stored hash. */
export function pinMatches(customer: Customer, pin: string): boolean {
  const a = Buffer.from(pinHash(customer.customerId, pin));
  const b = Buffer.from(customer.pinHash);
  return a.length === b.length && timingSafeEqual(a, b);
}

/** Phone numbers as a key: digits with a leading +. */
export const phoneKey = (raw: string) => `+${raw.replace(/[^0-9]/g, '')}`;

export interface ToolData {
  getOrder(orderId: string): Promise<Order | undefined>;
  customerByPhone(phone: string): Promise<Customer | undefined>;
  openTicket(t: Omit<Ticket, 'ticketId' | 'status' | 'createdAt'>): Promise<Ticket>;
  getTicket(ticketId: string): Promise<Ticket | undefined>;
  articles(): Promise<Article[]>;
}

export function createToolData(config: StorageConfig, opts: { now?: () => number; kbTtlMs?: number } = {}): ToolData {
  const now = opts.now ?? Date.now;
  const orders = tableClient(config, TABLES.orders);
  const tickets = tableClient(config, TABLES.tickets);
  const knowledge = tableClient(config, TABLES.knowledge);
  let kb: { at: number; articles: Promise<Article[]> } | undefined;

  return {
    async getOrder(orderId) {
      const e = await getOrUndefined<TableEntity<{ data: string }>>(orders, ORDER_PK, normalizeOrderId(orderId));
      return e ? (JSON.parse(e.data) as Order) : undefined;
    },
    async customerByPhone(phone) {
      const e = await getOrUndefined<TableEntity<{ data: string }>>(orders, CUSTOMER_PK, phoneKey(phone));
      return e ? (JSON.parse(e.data) as Customer) : undefined;
    },
    async openTicket(input) {
      // Short numeric ids are easy to read out on a call; createEntity refuses a duplicate, so retry on 409.
      for (let attempt = 0; attempt < 5; attempt++) {
        const ticket: Ticket = {
          ticketId: `T-${randomInt(100000, 1000000)}`,
          status: 'open',
          createdAt: new Date(now()).toISOString(),
          ...input,
        };
        try {
          await tickets.createEntity({
            partitionKey: TICKET_PK,
            rowKey: ticket.ticketId,
            data: JSON.stringify(ticket),
            orderId: ticket.orderId ?? '',
            customerId: ticket.customerId,
          });
          return ticket;
        } catch (err) {
          if (!isStorageStatus(err, 409)) throw err;
        }
      }
      throw new Error('could not allocate a ticket number');
    },
    async getTicket(ticketId) {
      const e = await getOrUndefined<TableEntity<{ data: string }>>(tickets, TICKET_PK, ticketId);
      return e ? (JSON.parse(e.data) as Ticket) : undefined;
    },
    articles() {
      // The knowledge base is small and read-mostly: one query per minute, not one per search.
      if (kb && now() - kb.at < (opts.kbTtlMs ?? 60_000)) return kb.articles;
      const entry = { at: now(), articles: loadArticles(knowledge) };
      entry.articles.catch(() => {
        if (kb === entry) kb = undefined;
      });
      kb = entry;
      return entry.articles;
    },
  };
}

async function loadArticles(client: TableClient): Promise<Article[]> {
  const out: Article[] = [];
  for await (const e of client.listEntities<TableEntity<{ data: string }>>({
    queryOptions: { filter: odata`PartitionKey eq '${KB_PK}'` },
  })) {
    out.push(JSON.parse(e.data) as Article);
  }
  return out;
}

async function getOrUndefined<T extends object>(client: TableClient, pk: string, rk: string): Promise<T | undefined> {
  // eslint-disable-next-line no-control-regex -- control characters are exactly what Table keys refuse
  if (!rk || /[/\\#?\u0000-\u001f]/.test(rk)) return undefined;
  try {
    return (await client.getEntity<T>(pk, rk)) as T;
  } catch (err) {
    if (isStorageStatus(err, 404)) return undefined;
    throw err;
  }
}

const DAY = 86_400_000;
const iso = (t: number) => new Date(t).toISOString();
type SeedOrder = (typeof orderSeed)[number] & {
  etaInDays?: number;
  deliveredDaysAgo?: number;
  note?: string;
  carrier?: string;
  trackingNumber?: string;
  refund?: { amount: number; issuedDaysAgo: number };
};

/** Seed orders carry relative dates ("placed 4 days ago") so the demo data stays plausible on any day. */
export function seedOrders(now = Date.now()): Order[] {
  return (orderSeed as SeedOrder[]).map((o) => {
    const total = Math.round(o.items.reduce((s, i) => s + i.qty * i.price, 0) * 100) / 100;
    const order: Order = {
      orderId: o.orderId,
      customerId: o.customerId,
      customerFirstName: o.customerFirstName,
      status: o.status as Order['status'],
      placedAt: iso(now - o.placedDaysAgo * DAY),
      items: o.items,
      total,
      currency: o.currency,
    };
    if (o.carrier) order.carrier = o.carrier;
    if (o.trackingNumber) order.trackingNumber = o.trackingNumber;
    if (o.etaInDays !== undefined) order.estimatedDelivery = iso(now + o.etaInDays * DAY).slice(0, 10);
    if (o.deliveredDaysAgo !== undefined) order.deliveredAt = iso(now - o.deliveredDaysAgo * DAY);
    if (o.refund) order.refund = { amount: o.refund.amount, issuedAt: iso(now - o.refund.issuedDaysAgo * DAY) };
    if (o.note) order.note = o.note;
    return order;
  });
}

export const seedArticles = (): Article[] => knowledgeSeed;

export const seedCustomers = (): Customer[] =>
  customerSeed.map((c) => ({
    customerId: c.customerId,
    firstName: c.firstName,
    phone: phoneKey(c.phone),
    pinHash: pinHash(c.customerId, c.pin),
  }));

/** Upserts the shipped orders and knowledge base (tickets start empty). Tables must exist (ensureTables). */
export async function seedToolData(
  config: StorageConfig,
  now = Date.now(),
): Promise<{ orders: number; articles: number }> {
  const orders = tableClient(config, TABLES.orders);
  const knowledge = tableClient(config, TABLES.knowledge);
  const os = seedOrders(now);
  const as = seedArticles();
  // One batch per table (same partition, ≤100 entities): two transactions instead of one per row.
  await orders.submitTransaction(
    os.map((o) => [
      'upsert',
      {
        partitionKey: ORDER_PK,
        rowKey: o.orderId,
        data: JSON.stringify(o),
        status: o.status,
        customerId: o.customerId,
      },
      'Replace',
    ]),
  );
  await orders.submitTransaction(
    seedCustomers().map((c) => [
      'upsert',
      { partitionKey: CUSTOMER_PK, rowKey: c.phone, data: JSON.stringify(c), customerId: c.customerId },
      'Replace',
    ]),
  );
  await knowledge.submitTransaction(
    as.map((a) => [
      'upsert',
      { partitionKey: KB_PK, rowKey: a.id, data: JSON.stringify(a), title: a.title },
      'Replace',
    ]),
  );
  return { orders: os.length, articles: as.length };
}
