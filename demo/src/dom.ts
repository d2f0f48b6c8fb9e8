/** The few DOM helpers the page needs. */

export function $<T extends HTMLElement = HTMLElement>(id: string): T {
  const node = document.getElementById(id);
  if (!node) throw new Error(`#${id} missing from index.html`);
  return node as T;
}

/** An element with text and attributes (text is always set as text, never as HTML). */
export function el(tag: string, opts: { text?: string; cls?: string; attrs?: Record<string, string> } = {}, ...children: Node[]): HTMLElement {
  const node = document.createElement(tag);
  if (opts.text !== undefined) node.textContent = opts.text;
  if (opts.cls) node.className = opts.cls;
  for (const [k, v] of Object.entries(opts.attrs ?? {})) node.setAttribute(k, v);
  node.append(...children);
  return node;
}

const SCREENS = ['signin', 'home', 'room', 'inbox', 'dm'] as const;
export type Screen = (typeof SCREENS)[number];

export function show(screen: Screen): void {
  for (const s of SCREENS) $(s).hidden = s !== screen;
  document.body.dataset['screen'] = screen;
}

/** Keeps a chat list scrolled to its newest line, and at most `max` lines long. */
export function append(list: HTMLElement, item: HTMLElement, max = 150): void {
  list.append(item);
  while (list.children.length > max) list.firstElementChild?.remove();
  list.scrollTop = list.scrollHeight;
}

export function toast(text: string): void {
  const note = el('div', { text, cls: 'banner', attrs: { role: 'status', 'data-testid': 'toast' } });
  note.style.cssText = 'position:fixed;left:12px;right:12px;bottom:72px;z-index:9';
  document.body.append(note);
  setTimeout(() => note.remove(), 3500);
}
