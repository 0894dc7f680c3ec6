export type Role = 'user' | 'assistant';

/**
 * The live transcript: one entry per conversation item, filled by streaming deltas. An entry is aria-busy
 * while it streams so screen readers announce the finished sentence once instead of every fragment.
 */
export class Transcript {
  private readonly entries = new Map<string, HTMLLIElement>();

  constructor(private readonly list: HTMLOListElement) {}

  private entry(itemId: string, role: Role, previousItemId?: string | null): HTMLLIElement {
    let li = this.entries.get(itemId);
    if (li) return li;
    li = document.createElement('li');
    li.className = `msg ${role}`;
    li.dataset.itemId = itemId;
    li.dataset.role = role;
    const who = document.createElement('span');
    who.className = 'who';
    who.textContent = role === 'user' ? 'You' : 'Agent';
    const text = document.createElement('p');
    text.className = 'text';
    li.append(who, text);
    // Keep the conversation's order when the service says where the item goes (user speech is transcribed
    // after the reply may have started).
    const prev = previousItemId ? this.entries.get(previousItemId) : undefined;
    if (prev) prev.after(li);
    else this.list.append(li);
    this.entries.set(itemId, li);
    return li;
  }

  has(itemId: string) {
    return this.entries.has(itemId);
  }

  /** Makes sure an entry exists (e.g. when speech was committed, before its text is known). */
  placeholder(itemId: string, role: Role, previousItemId?: string | null) {
    const li = this.entry(itemId, role, previousItemId);
    if (!li.querySelector('.text')!.textContent) li.setAttribute('aria-busy', 'true');
  }

  append(itemId: string, role: Role, delta: string) {
    const li = this.entry(itemId, role);
    li.setAttribute('aria-busy', 'true');
    li.querySelector('.text')!.textContent += delta;
    this.scroll();
  }

  /** The final text of an item; replaces the streamed text (it is authoritative). */
  complete(itemId: string, role: Role, text: string | undefined) {
    const li = this.entry(itemId, role);
    const el = li.querySelector('.text')!;
    if (text !== undefined && text !== '') el.textContent = text;
    if (!el.textContent) el.textContent = role === 'user' ? '(not transcribed)' : '(no text)';
    li.removeAttribute('aria-busy');
    li.dataset.done = 'true';
    this.scroll();
  }

  /** An item cut short by an interruption keeps its text, marked as such (playback stopped part-way). */
  interrupted(itemId: string) {
    const li = this.entries.get(itemId);
    if (!li) return;
    li.classList.add('interrupted');
    li.removeAttribute('aria-busy');
    li.dataset.done = 'true';
  }

  image(itemId: string, role: Role, dataUrl: string) {
    const li = this.entry(itemId, role);
    const img = document.createElement('img');
    img.src = dataUrl;
    img.alt = 'Image you sent';
    img.className = 'sent-image';
    li.append(img);
    this.scroll();
  }

  /** A line that is not speech: connection changes, errors, reconnects. */
  note(text: string) {
    const li = document.createElement('li');
    li.className = 'note';
    li.textContent = text;
    this.list.append(li);
    this.scroll();
  }

  private scroll() {
    this.list.parentElement?.scrollTo({ top: this.list.parentElement.scrollHeight });
  }
}
