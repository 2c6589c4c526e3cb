/** The element with `id`, of the expected type; a page whose markup lacks it is a build defect. */
export function byId<T extends HTMLElement>(id: string, type: new () => T): T {
  const el = document.getElementById(id);
  if (!(el instanceof type)) throw new Error(`page markup: #${id} is missing`);
  return el;
}

/** Shows a message in the page's error slot (and keeps the page usable). */
export function showError(err: unknown): void {
  const slot = document.getElementById("page-error");
  if (!slot) return;
  slot.textContent = err instanceof Error ? err.message : String(err);
  slot.hidden = false;
}

/** An element with text content, built without innerHTML (values come from the network). */
export function el(tag: string, text = "", className = ""): HTMLElement {
  const node = document.createElement(tag);
  if (text) node.textContent = text;
  if (className) node.className = className;
  return node;
}
