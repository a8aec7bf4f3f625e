/**
 * Creates an element: `h('td', { class: 'num', 'data-field': 'lagBytes' }, 'text', child)`. Attributes whose
 * value is false, null or undefined are left out; `true` sets an empty attribute. Text is never parsed as HTML.
 */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  setAttributes(element, attributes);
  element.append(...children.flat().filter((child) => child !== null && child !== undefined));
  return element;
}

/** The same for SVG elements. */
export function svg(tag, attributes = {}, ...children) {
  const element = document.createElementNS('http://www.w3.org/2000/svg', tag);
  setAttributes(element, attributes);
  element.append(...children.flat().filter((child) => child !== null && child !== undefined));
  return element;
}

function setAttributes(element, attributes) {
  for (const [name, value] of Object.entries(attributes)) {
    if (value === false || value === null || value === undefined) continue;
    element.setAttribute(name, value === true ? '' : String(value));
  }
}

/** Sets `textContent` only when it changed, so screen readers and selections are not disturbed every poll. */
export function setText(element, text) {
  if (element.textContent !== text) element.textContent = text;
}

/** Makes `parent`'s children exactly `children`, moving nodes only when the order changed (keeps focus). */
export function syncChildren(parent, children) {
  const same =
    parent.children.length === children.length && children.every((child, i) => parent.children[i] === child);
  if (!same) parent.replaceChildren(...children);
}
